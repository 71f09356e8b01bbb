"""Health, the OpenAPI document, and the caller's own profile."""

from __future__ import annotations

import azure.functions as func

from functions.http import Call, Reply, endpoint
from shared.composition import get_runtime
from shared.errors import DependencyUnavailableError
from shared.models import HealthReport, Me
from shared.services.health import check_health
from shared.services.me import describe_caller

bp = func.Blueprint()


@endpoint(
    bp,
    name="system_health",
    route="health",
    methods=["GET"],
    summary="Readiness of the API and its dependencies",
    auth=False,
    response=HealthReport,
    tags=("system",),
)
def system_health(call: Call) -> Reply:
    health = check_health(get_runtime())
    if health.status == "ok":
        return Reply(health)
    failing = ", ".join(name for name, state in health.checks.items() if state != "ok")
    raise DependencyUnavailableError(failing, checks=health.checks)


@endpoint(
    bp,
    name="system_openapi",
    route="openapi.json",
    methods=["GET"],
    summary="The OpenAPI 3.1 document of this API",
    auth=False,
    tags=("system",),
)
def system_openapi(call: Call) -> Reply:
    from functions.openapi import openapi_document

    return Reply(openapi_document())


@endpoint(
    bp,
    name="me_get",
    route="me",
    methods=["GET"],
    summary="The signed-in caller: roles, teams and the families they may see",
    response=Me,
    tags=("me",),
)
def me_get(call: Call) -> Me:
    return describe_caller(get_runtime(), call.caller)
