"""The function app as the host reads it: the ``FunctionApp``, each function's trigger as the
``azure-functions`` library describes it, ``host.json``, and ``%SETTING%`` expressions in
trigger values."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import azure.functions as func

from local.config import ROOT
from local.host.rules import UnresolvedSettingError, resolve_settings, setting_lookup

HOST_JSON = ROOT / "host.json"
DEFAULT_CONNECTION = "AzureWebJobsStorage"


@dataclass(frozen=True)
class Triggered:
    """A function as the host calls it: its name, its trigger's parameter, and its code."""

    name: str
    binding: str
    function: Callable[..., Any]


def load_app(module: str = "function_app") -> func.FunctionApp:
    app = importlib.import_module(module).app
    if not isinstance(app, func.FunctionApp):
        raise TypeError(f"{module}.app is not an azure.functions.FunctionApp")
    return app


def triggered_by(
    kind: str, functions: list[func.Function]
) -> Iterator[tuple[Triggered, dict[str, Any]]]:
    """Each function whose trigger is of ``kind`` (``httpTrigger``, ``queueTrigger``, ...), with
    that trigger as the library describes it."""
    for function in functions:
        trigger = function.get_trigger()
        described = {} if trigger is None else dict(trigger.get_dict_repr())
        if described.get("type") == kind:
            target = Triggered(
                name=str(function.get_function_name()),
                binding=str(described["name"]),
                function=function.get_user_function(),
            )
            yield target, described


def connection_of(trigger: Mapping[str, Any]) -> str:
    """The app setting holding a storage trigger's connection."""
    return str(trigger.get("connection") or DEFAULT_CONNECTION)


def extension_settings(name: str, host_json: Path = HOST_JSON) -> dict[str, Any]:
    """``extensions.<name>`` of ``host.json``: empty when it is not there."""
    extensions = json.loads(host_json.read_text()).get("extensions", {})
    return dict(extensions.get(name, {}))


def resolve_setting_expressions(value: str, settings: Mapping[str, str]) -> str:
    """``value`` with each ``%NAME%`` replaced by that app setting, resolved as the registration
    rules resolve it (``rules.resolve_settings``: names looked up ignoring case, as the runtime
    does), so the host runs what the rules checked."""
    try:
        resolved = resolve_settings(value, setting_lookup(settings))
    except UnresolvedSettingError as error:
        raise KeyError(f"{value!r} in a trigger: {error}") from error
    assert resolved is not None, "resolve_settings answers None only without settings"
    return resolved
