"""The HTTP edge: one decorator declares an endpoint, and errors become problem+json here only.

``endpoint`` wraps ``Blueprint.route`` so a route, its methods and its request/response models are
declared once; the OpenAPI document is generated from that declaration. Every answer, problems
included, says ``Cache-Control: no-store`` unless its handler set ``Cache-Control`` itself.
A model may be given as a function returning it, so that registering the endpoints at a cold
start imports no model (and not pydantic): it is imported when a request or the OpenAPI document
first needs it.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import FunctionType
from typing import TYPE_CHECKING, Any, TypeVar

import azure.functions as func

from shared import errors
from shared.composition import get_runtime
from shared.faults import as_dependency_error
from shared.identity import Principal
from shared.ids import canonical_id

if TYPE_CHECKING:
    from pydantic import BaseModel

    from shared.access import Caller

log = logging.getLogger("familystory.http")

MAX_BODY_BYTES = 1024 * 1024
JSON_TYPES = ("application/json", "application/merge-patch+json")
UTF8 = ("utf-8", "utf8")
PROBLEM_TYPE_BASE = "urn:familystory:problem:"
NO_STORE = "no-store"  # answers carry case data and SAS links; an endpoint may say otherwise

M = TypeVar("M", bound="BaseModel")
Model = Any  # a pydantic model (or type), or a function without arguments returning one


@dataclass(frozen=True)
class Problem:
    status: int
    slug: str
    title: str


PROBLEMS: dict[type[Exception], Problem] = {
    errors.BadRequestError: Problem(400, "bad-request", "Bad request"),
    errors.UnauthorizedError: Problem(401, "unauthorized", "Unauthorized"),
    errors.ForbiddenError: Problem(403, "forbidden", "Forbidden"),
    errors.NotFoundError: Problem(404, "not-found", "Not found"),
    errors.ConflictError: Problem(409, "conflict", "Conflict"),
    errors.GoneError: Problem(410, "gone", "Gone"),
    errors.PreconditionFailedError: Problem(412, "precondition-failed", "Precondition failed"),
    errors.PayloadTooLargeError: Problem(413, "payload-too-large", "Payload too large"),
    errors.UnsupportedMediaTypeError: Problem(
        415, "unsupported-media-type", "Unsupported media type"
    ),
    errors.ValidationError: Problem(422, "validation", "Validation failed"),
    errors.TooManyRequestsError: Problem(429, "too-many-requests", "Too many requests"),
    errors.DependencyUnavailableError: Problem(
        503, "dependency-unavailable", "Service unavailable"
    ),
}
INTERNAL = Problem(500, "internal", "Internal server error")


@dataclass
class Reply:
    body: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass(frozen=True)
class EndpointSpec:
    name: str
    route: str
    methods: tuple[str, ...]
    summary: str
    auth: bool
    body: Model
    response: Model
    status: int
    tags: tuple[str, ...]
    metered: bool = True

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


class Call:
    """One HTTP invocation as the services see it: caller, route values, query and body."""

    def __init__(self, request: func.HttpRequest, invocation_id: str) -> None:
        self.request = request
        self.invocation_id = invocation_id
        self._principal: Principal | None = None
        self._caller: Caller | None = None

    @property
    def principal(self) -> Principal:
        if self._principal is None:
            raise errors.UnauthorizedError("A bearer token is required.")
        return self._principal

    @property
    def caller(self) -> Caller:
        """The caller with their teams or family memberships (short per-instance cache)."""
        if self._caller is None:
            from shared.services.callers import resolve_caller

            self._caller = resolve_caller(get_runtime(), self.principal)
        return self._caller

    def route_id(self, name: str) -> str:
        """A record id from the route; one that is not a UUID cannot name a record (404)."""
        value = canonical_id(self.route(name).lower())
        if value is None:
            raise errors.NotFoundError("No such record.")
        return value

    def query_id(self, name: str) -> str | None:
        raw = self.query(name)
        if raw is None:
            return None
        value = canonical_id(raw.lower())
        if value is None:
            raise errors.BadRequestError(f"{name} must be a UUID.")
        return value

    def spend(self, cost: int = 1) -> None:
        """Spend ``cost`` of the caller's allowance of writes (or reads, for a GET), or 429."""
        writing = self.request.method.upper() != "GET"
        get_runtime().caller_limits.spend(self.principal, writing, cost)

    def authenticate(self) -> Principal:
        validator = get_runtime().token_validator
        self._principal = validator.authenticate(self.request.headers.get("authorization"))
        return self._principal

    def route(self, name: str) -> str:
        return str(self.request.route_params.get(name, ""))

    def query(self, name: str) -> str | None:
        value = self.request.params.get(name)
        return None if value is None else str(value)

    def header(self, name: str) -> str | None:
        value = self.request.headers.get(name)
        return None if value is None else str(value)

    def json(self, model: type[M]) -> M:
        content_type, _, parameters = (self.header("content-type") or "").partition(";")
        body = self.request.get_body() or b""
        if len(body) > MAX_BODY_BYTES:
            raise errors.PayloadTooLargeError("The request body is over 1 MiB.")
        if content_type.strip().lower() not in JSON_TYPES or not utf8_charset(parameters):
            raise errors.UnsupportedMediaTypeError("The request body must be application/json.")
        from shared.json_input import parse_body
        from shared.validation import validate

        document = parse_body(body)

        return validate(model, document, ("body",))


def utf8_charset(parameters: str) -> bool:
    """Whether a Content-Type's parameters name no charset, or UTF-8 (JSON is UTF-8)."""
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in UTF8:
            return False
    return True


def record_reply(body: dict[str, Any], status: int = 200, location: str | None = None) -> Reply:
    """A single record, with its version as the ETag."""
    headers = {"ETag": f'"{body["version"]}"'} if body.get("version") else {}
    if location:
        headers["Location"] = location
    return Reply(body, status, headers)


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
) -> Callable[[Callable[[Call], Reply | BaseModel]], Any]:
    """Declare an HTTP function: route, methods and models in one place.

    A signed-in caller's request spends one unit of their rate limit before the handler runs,
    unless the endpoint is not ``metered``: then its handler calls ``Call.spend`` itself."""

    def decorate(handler: Callable[[Call], Reply | BaseModel]) -> Any:
        ENDPOINTS[name] = EndpointSpec(
            name, route, tuple(methods), summary, auth, body, response, status, tags, metered
        )

        def http_function(
            req: func.HttpRequest,
            context: func.Context = None,  # type: ignore[assignment]
        ) -> func.HttpResponse:
            invocation_id = context.invocation_id if context is not None else str(uuid.uuid4())
            return dispatch(
                name, handler, req, invocation_id, auth=auth, status=status, metered=metered
            )

        http_function.__name__ = name
        http_function.__qualname__ = name
        routed = bp.route(route=route, methods=methods, auth_level=func.AuthLevel.ANONYMOUS)(
            http_function
        )
        return bp.function_name(name)(routed)

    return decorate


def dispatch(
    name: str,
    handler: Callable[[Call], Reply | BaseModel],
    req: func.HttpRequest,
    invocation_id: str,
    *,
    auth: bool,
    status: int,
    metered: bool = True,
) -> func.HttpResponse:
    started = time.perf_counter()
    call = Call(req, invocation_id)
    try:
        if auth:
            call.authenticate()
            if metered:
                call.spend()
        result = handler(call)
        reply = result if isinstance(result, Reply) else Reply(result, status)
        response = encode(reply)
    except Exception as error:  # noqa: BLE001 - the one place every error becomes a response
        response = problem_response(error, invocation_id, name)
    if "cache-control" not in response.headers:
        response.headers["Cache-Control"] = NO_STORE
    log.info(
        "http %s %s -> %s",
        req.method,
        name,
        response.status_code,
        extra={
            "invocation_id": invocation_id,
            "function": name,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return response


def encode(reply: Reply) -> func.HttpResponse:
    headers = dict(reply.headers)
    if reply.body is None:
        return func.HttpResponse(status_code=reply.status, headers=headers)
    body = (
        reply.body  # serialised by the handler (a large document built a page at a time)
        if isinstance(reply.body, bytes)
        else json.dumps(to_jsonable(reply.body), separators=(",", ":"), ensure_ascii=False)
    )
    return func.HttpResponse(
        body=body,
        status_code=reply.status,
        headers=headers,
        mimetype=reply.content_type,
        charset="utf-8",
    )


def to_jsonable(value: Any) -> Any:
    pydantic = sys.modules.get("pydantic")  # a model instance means pydantic is loaded
    if pydantic is not None and isinstance(value, pydantic.BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_none=False)
    return value


def problem_for(error: BaseException) -> Problem:
    for cls in type(error).__mro__:
        problem = PROBLEMS.get(cls)
        if problem is not None:
            return problem
    return INTERNAL


def problem_body(error: Exception) -> tuple[dict[str, Any], dict[str, str]]:
    """The RFC 9457 body and headers for an error; the one mapping from errors to HTTP."""
    if not isinstance(error, errors.FamilyStoryError):
        error = as_dependency_error(error) or error
    problem = problem_for(error)
    headers: dict[str, str] = {}
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + problem.slug,
        "title": problem.title,
        "status": problem.status,
    }
    if isinstance(error, errors.FamilyStoryError):
        body["detail"] = error.detail
        body.update(to_jsonable_mapping(error.extensions))
        if isinstance(error, errors.ValidationError):
            body["errors"] = error.errors
        if isinstance(error, errors.UnauthorizedError):
            headers["WWW-Authenticate"] = "Bearer"
        if isinstance(error, errors.TooManyRequestsError | errors.DependencyUnavailableError):
            headers["Retry-After"] = str(error.retry_after_seconds)
    return body, headers


def problem_response(error: Exception, invocation_id: str, function: str) -> func.HttpResponse:
    body, headers = problem_body(error)
    context = {"invocation_id": invocation_id, "function": function}
    if body["status"] == INTERNAL.status:
        body["detail"] = f"An unexpected error occurred (invocation {invocation_id})."
        log.exception("unhandled error in %s", function, extra=context)
    elif body["status"] == 503:
        log.warning("dependency unavailable in %s: %s", function, body["detail"], extra=context)
    return func.HttpResponse(
        body=json.dumps(body, separators=(",", ":")),
        status_code=body["status"],
        headers=headers,
        mimetype="application/problem+json",
        charset="utf-8",
    )


def to_jsonable_mapping(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: to_jsonable(value) for key, value in values.items()}
