"""The function app as the host reads it: the ``FunctionApp``, each function's trigger, and
``%SETTING%`` expressions in trigger values."""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from typing import Any

import azure.functions as func

SETTING_EXPRESSION = re.compile(r"%([A-Za-z0-9_]+)%")


def load_app(module: str = "function_app") -> func.FunctionApp:
    app = importlib.import_module(module).app
    if not isinstance(app, func.FunctionApp):
        raise TypeError(f"{module}.app is not an azure.functions.FunctionApp")
    return app


def trigger_of(function: func.Function) -> dict[str, Any]:
    trigger = function.get_trigger()
    return {} if trigger is None else dict(trigger.get_dict_repr())


def resolve_setting_expressions(value: str, settings: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in settings:
            raise KeyError(f"setting {name} used in a trigger is not set")
        return settings[name]

    return SETTING_EXPRESSION.sub(replace, value)
