"""Routes as the functions declare them: their parameters, the host's prefix, filled-in URLs."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from urllib.parse import quote

ROUTE_PARAMETER = re.compile(r"\{\*?([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\??\}")
HOST_JSON = Path(__file__).resolve().parents[2] / "host.json"


@cache
def route_prefix() -> str:
    """The host's route prefix (``/api/v1``), read from ``host.json`` once."""
    host = json.loads(HOST_JSON.read_text())
    prefix = host.get("extensions", {}).get("http", {}).get("routePrefix", "api")
    return "/" + str(prefix).strip("/") if prefix else ""


def parameters_of(route: str) -> list[str]:
    return ROUTE_PARAMETER.findall(route)


def path_of(route: str) -> str:
    """A route as an OpenAPI path: ``/families/{familyId}``, constraints dropped."""
    return "/" + ROUTE_PARAMETER.sub(r"{\1}", route)


def url(route: str, values: Mapping[str, str]) -> str:
    """Where ``route`` is served with ``values`` in its parameters, prefix included."""
    filled = ROUTE_PARAMETER.sub(lambda match: quote(values[match.group(1)], safe=""), route)
    return f"{route_prefix()}/{filled}"
