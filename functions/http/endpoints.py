"""One decorator declares an endpoint: its route, methods, models and OpenAPI facts, once.

``endpoint`` wraps ``Blueprint.route`` and records the declaration in ``ENDPOINTS``, the registry
the OpenAPI document is generated from. Every answer, problems included, says
``Cache-Control: no-store`` unless its handler set ``Cache-Control`` itself. A model may be given
as a function returning it, so that registering the endpoints at a cold start imports no model
(and not pydantic): it is imported when a request or the OpenAPI document first needs it.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import FunctionType
from typing import TYPE_CHECKING, Any

import azure.functions as func

from functions.http.call import Call
from functions.http.problems import problem_response
from functions.http.replies import NO_STORE, Reply, encode
from functions.http.runs import trace_context_of
from shared import telemetry
from shared.ids import canonical_id

if TYPE_CHECKING:
    from pydantic import BaseModel

log = logging.getLogger("familystory.http")

Model = Any  # a pydantic model (or type), or a function without arguments returning one
JsonSchema = Mapping[str, Any]
Example = Mapping[str, Any]


@dataclass(frozen=True)
class Query:
    """A query parameter an endpoint reads."""

    name: str
    schema: JsonSchema
    description: str | None = None


UUID: JsonSchema = {"type": "string", "format": "uuid"}
PAGE = (  # what every list reads
    Query("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}),
    Query(
        "next",
        {"type": "string"},
        "The next of the previous page (opaque, sealed to the caller and list).",
    ),
)
NEXT_PAGE = PAGE[1]


@dataclass(frozen=True, eq=False)
class Schema:
    """A response described by a JSON schema rather than a model: published as ``name``, beside
    the schemas it refers to."""

    name: str
    schema: JsonSchema
    refers_to: Mapping[str, JsonSchema] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class EndpointSpec:
    """An endpoint as declared. Beyond what its route, methods, body and sign-in imply, it may
    read ``query`` parameters, constrain ``path`` parameters (a JSON schema by name), answer more
    ``statuses`` (and ``never`` some that are implied), send more response ``headers``, and show
    a typical request (``example``) and answer (``response_example``). A creating endpoint names
    the route of what it creates as its ``location``. ``media_types`` are the other forms its
    success may take besides JSON (``text/csv``, say), as the caller asks for them."""

    name: str
    route: str
    methods: tuple[str, ...]
    summary: str
    auth: bool = True
    body: Model = None
    response: Model = None
    status: int = 200
    tags: tuple[str, ...] = ()
    metered: bool = True
    location: str | None = None
    query: tuple[Query, ...] = ()
    path: Mapping[str, JsonSchema] = field(default_factory=dict)
    statuses: tuple[int, ...] = ()
    never: tuple[int, ...] = ()
    headers: tuple[str, ...] = ()
    example: Example | None = None
    response_example: Example | None = None
    media_types: tuple[str, ...] = ()

    @property
    def body_model(self) -> type[BaseModel] | None:
        return resolve_model(self.body)  # type: ignore[no-any-return]

    @property
    def response_model(self) -> Any:
        return resolve_model(self.response)


def resolve_model(model: Model) -> Any:
    """The model itself, whether given directly or as a function returning it."""
    return model() if isinstance(model, FunctionType) else model


ENDPOINTS: dict[str, EndpointSpec] = {}

Handler = Callable[[Call], "Reply | BaseModel"]


def endpoint(
    bp: func.Blueprint,
    *,
    name: str,
    route: str,
    methods: list[str],
    summary: str,
    auth: bool = True,
    body: Model = None,
    response: Model = None,
    status: int = 200,
    tags: tuple[str, ...] = (),
    metered: bool = True,
    location: str | None = None,
    query: tuple[Query, ...] = (),
    path: Mapping[str, JsonSchema] | None = None,
    statuses: tuple[int, ...] = (),
    never: tuple[int, ...] = (),
    headers: tuple[str, ...] = (),
    example: Example | None = None,
    response_example: Example | None = None,
    media_types: tuple[str, ...] = (),
) -> Callable[[Handler], Any]:
    """Declare an HTTP function: route, methods, models and OpenAPI facts in one place
    (``EndpointSpec`` says what each means).

    A signed-in caller's request spends one unit of their rate limit before the handler runs,
    unless the endpoint is not ``metered``: then its handler calls ``Call.spend`` itself."""
    spec = EndpointSpec(
        name=name,
        route=route,
        methods=tuple(methods),
        summary=summary,
        auth=auth,
        body=body,
        response=response,
        status=status,
        tags=tags,
        metered=metered,
        location=location,
        query=query,
        path=path or {},
        statuses=statuses,
        never=never,
        headers=headers,
        example=example,
        response_example=response_example,
        media_types=media_types,
    )

    def decorate(handler: Handler) -> Any:
        ENDPOINTS[name] = spec

        def http_function(
            req: func.HttpRequest,
            context: func.Context = None,  # type: ignore[assignment]
        ) -> func.HttpResponse:
            invocation_id = context.invocation_id if context is not None else str(uuid.uuid4())
            parent, state = trace_context_of(context)
            with telemetry.invocation(name, invocation_id, "http", parent, state) as run:
                return dispatch(spec, handler, req, invocation_id, run)

        http_function.__name__ = name
        http_function.__qualname__ = name
        routed = bp.route(route=route, methods=methods, auth_level=func.AuthLevel.ANONYMOUS)(
            http_function
        )
        return bp.function_name(name)(routed)

    return decorate


def dispatch(
    spec: EndpointSpec,
    handler: Handler,
    req: func.HttpRequest,
    invocation_id: str,
    run: telemetry.Invocation | None = None,
) -> func.HttpResponse:
    """Answer one request; an error becomes problem+json here, and one answered with a 5xx is
    recorded on the invocation's span too (the host sees only the status)."""
    started = time.perf_counter()
    run = run or telemetry.Invocation()
    call = Call(req, spec.location)
    family_id = canonical_id(str(req.route_params.get("familyId", "")).lower())
    if family_id is not None:
        run.set(telemetry.FAMILY_ID, family_id)
    try:
        if spec.auth:
            call.authenticate()
            if spec.metered:
                call.spend()
        result = handler(call)
        reply = result if isinstance(result, Reply) else Reply(result, spec.status)
        response = encode(reply)
    except Exception as error:  # noqa: BLE001 - the one place every error becomes a response
        response = problem_response(error, invocation_id, spec.name)
        if response.status_code >= 500:
            run.failed(error)
    if "cache-control" not in response.headers:
        response.headers["Cache-Control"] = NO_STORE
    run.answered(response.status_code)
    log.info(
        "http %s %s -> %s",
        req.method,
        spec.name,
        response.status_code,
        extra={
            "invocation_id": invocation_id,
            "function": spec.name,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return response
