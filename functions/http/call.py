"""One HTTP invocation as the services see it: caller, route values, query and body."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import azure.functions as func

from functions.http.replies import Reply, record_reply
from functions.http.routes import parameters_of, url
from shared import errors
from shared.bootstrap import get_runtime
from shared.identity import Principal
from shared.ids import canonical_id

if TYPE_CHECKING:
    from pydantic import BaseModel

    from shared.access import Caller

MAX_BODY_BYTES = 1024 * 1024
JSON_TYPES = ("application/json", "application/merge-patch+json")
UTF8 = ("utf-8", "utf8")

M = TypeVar("M", bound="BaseModel")


class Call:
    """One invocation of an endpoint; ``location`` is the route of what the endpoint creates."""

    def __init__(self, request: func.HttpRequest, location: str | None = None) -> None:
        self.request = request
        self.location = location
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

    def page(self) -> tuple[int, str | None]:
        """The page asked for: ``?limit=`` (checked, or the default) and ``?next=``."""
        from shared.records.service import page_limit

        return page_limit(self.query("limit")), self.query("next")

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

    def created(self, body: dict[str, Any]) -> Reply:
        """201 with the new record's ETag, and its ``Location``: the endpoint's declared
        ``location`` route, filled with this call's route values and, last, the record's id."""
        if self.location is None:
            return record_reply(body, 201)
        *known, new = parameters_of(self.location)
        values = {name: self.route_id(name) for name in known} | {new: str(body["id"])}
        return record_reply(body, 201, url(self.location, values))


def utf8_charset(parameters: str) -> bool:
    """Whether a Content-Type's parameters name no charset, or UTF-8 (JSON is UTF-8)."""
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in UTF8:
            return False
    return True
