"""Index the whole app as the Functions host does, and check what it declares."""

from __future__ import annotations

import re

import azure.functions as func
import pytest

from functions.http.endpoints import ENDPOINTS

NAME = re.compile(r"^[a-z]+(_[a-z]+)+$")


@pytest.fixture
def functions(app_functions: list[func.Function]) -> list[func.Function]:
    return app_functions


def test_app_indexes_with_unique_feature_action_names(functions: list[func.Function]) -> None:
    names = [f.get_function_name() for f in functions]
    assert len(names) == len(set(names))
    assert all(NAME.match(str(name)) for name in names), names


def test_every_http_function_is_declared_through_the_endpoint_helper(
    functions: list[func.Function],
) -> None:
    http = {}
    for function in functions:
        trigger = function.get_trigger()
        assert trigger is not None
        spec = trigger.get_dict_repr()
        if spec["type"] == "httpTrigger":
            methods = tuple(str(getattr(m, "value", m)) for m in spec["methods"])
            http[function.get_function_name()] = (spec["route"], methods)
    assert http == {name: (e.route, e.methods) for name, e in ENDPOINTS.items()}
    assert {"system_health", "system_openapi", "me_get"} <= set(http)


def test_http_functions_are_anonymous_at_the_host_and_authenticate_in_code(
    functions: list[func.Function],
) -> None:
    for function in functions:
        trigger = function.get_trigger()
        assert trigger is not None
        spec = trigger.get_dict_repr()
        if spec["type"] == "httpTrigger":
            assert str(getattr(spec["authLevel"], "value", spec["authLevel"])) == "anonymous"


def test_no_http_route_starts_with_a_prefix_the_azure_host_reserves(
    functions: list[func.Function],
) -> None:
    """Azure refuses to register a function whose route starts with ``admin`` or ``runtime``,
    whatever ``routePrefix`` says, so such a route would work locally and never in Azure."""
    routes = []
    for function in functions:
        trigger = function.get_trigger()
        assert trigger is not None
        spec = trigger.get_dict_repr()
        if spec["type"] == "httpTrigger":
            routes.append(str(spec.get("route") or function.get_function_name()))
    assert routes
    reserved = [r for r in routes if r.lstrip("/").lower().startswith(("admin", "runtime"))]
    assert reserved == []


# Loaded on first use, never by registering the functions at a cold start.
NOT_AT_START = (
    "pydantic",
    "pydantic_settings",
    "shared.records.models",
    "shared.settings",
    "azure.cosmos",
    "azure.storage.blob",
    "azure.identity",
    "azure.communication.sms",
    "jwt",
    "PIL",
)


def test_indexing_the_app_imports_no_sdk_no_model_and_not_pydantic() -> None:
    """What bench/cold_start.py measures, as a fact that cannot drift: the names, not the time."""
    import subprocess
    import sys
    from pathlib import Path

    probe = (
        "import sys, function_app\n"
        "function_app.app.get_functions()\n"
        f"print('\\n'.join(n for n in {NOT_AT_START!r} if n in sys.modules))"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == []
