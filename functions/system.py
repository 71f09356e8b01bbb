"""Health, the OpenAPI document, and the caller's own profile."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import ENDPOINTS, Call, Reply, endpoint
from shared.bootstrap import get_runtime
from shared.errors import DependencyUnavailableError
from shared.lazy import LazyModule

if TYPE_CHECKING:
    from shared import models
    from shared.services import me
else:
    models = LazyModule("shared.models")
    me = LazyModule("shared.services.me")

bp = func.Blueprint()


@endpoint(
    bp,
    name="system_health",
    route="health",
    methods=["GET"],
    summary="Whether the API's dependencies answer (no token; checked at most every few seconds)",
    auth=False,
    response=lambda: models.HealthReport,
    tags=("system",),
)
def system_health(call: Call) -> Reply:
    return _answer(get_runtime().health.report())


@endpoint(
    bp,
    name="system_ready",
    route="health/ready",
    methods=["GET"],
    summary="Whether every container the API uses answers reads (the availability test's)",
    auth=False,
    response=lambda: models.HealthReport,
    tags=("system",),
)
def system_ready(call: Call) -> Reply:
    """Deeper than ``/health``: a read of each Cosmos DB container and each blob container,
    each with its own timeout. No token, as an availability test sends none; the answer names
    dependencies only, and rounds are shared and reused as ``/health``'s are."""
    return _answer(get_runtime().readiness.report())


def _answer(health: models.HealthReport) -> Reply:
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
    """The document of every endpoint the app registered (all of them, once ``function_app``
    has registered its blueprints, as the host does before the first request)."""
    from functions.http.openapi import openapi_document

    document = openapi_document(ENDPOINTS.values())
    return Reply(document, headers={"Cache-Control": "public, max-age=3600"})


@endpoint(
    bp,
    name="me_get",
    route="me",
    methods=["GET"],
    summary="The signed-in caller: roles, teams and the families they may see",
    response=lambda: models.Me,
    tags=("me",),
    never=(403,),  # any caller with a valid token may ask who they are
)
def me_get(call: Call) -> models.Me:
    return me.describe_caller(get_runtime(), call.caller)
