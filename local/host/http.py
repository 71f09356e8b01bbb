"""HTTP triggers and the Event Grid webhook, served as the Functions host serves them.

HTTP triggers are served at their routes (ASP.NET-style templates: ``{param}``, constraints
such as ``{id:guid}``, optional ``{x?}``, catch-all ``{*rest}``; literal segments take
precedence over parameters) and methods, under the ``host.json`` route prefix, each request
handed over as a ``func.HttpRequest``. Event Grid triggers take events POSTed to
``/runtime/webhooks/eventgrid?functionName=<name>`` (``eventgrid``), as the real host's webhook
does, so a developer can deliver an event by hand.

The host's own refusals (no function serves the path: 404; a wrong method: 405) are
problem+json typed as the app's problems are; an exception inside a function becomes a 500
problem+json naming an invocation id that the log line carries too, never a crash of the host.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import azure.functions as func
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from functions.http import PROBLEM_TYPE_BASE
from local.host.app import HOST_JSON, Triggered, extension_settings, triggered_by
from local.host.cors import CorsMiddleware, CorsPolicy, local_cors_policy
from local.host.eventgrid import EVENT_GRID_PATH, EventGridWebhook, event_grid_functions
from local.host.invoke import TraceContext, call_user_function, invoke_logged, run_function

log = logging.getLogger("familystory.host")

ROUTE_TOKEN = re.compile(r"\{(\*)?([A-Za-z_][A-Za-z0-9_]*)(?::([^}?]*))?(\?)?\}")
CONSTRAINTS = {
    "int": r"-?\d+",
    "long": r"-?\d+",
    "guid": r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    "alpha": r"[A-Za-z]+",
    "bool": r"(?i:true|false)",
}


def route_prefix(host_json: Path = HOST_JSON) -> str:
    value = str(extension_settings("http", host_json).get("routePrefix", "api")).strip("/")
    return f"/{value}" if value else ""


@dataclass(frozen=True)
class HttpFunction(Triggered):
    route: str
    methods: frozenset[str]
    pattern: re.Pattern[str] = field(compare=False)
    precedence: tuple[int, ...] = field(compare=False)


def compile_route(route: str) -> tuple[re.Pattern[str], tuple[int, ...]]:
    """An ASP.NET-style route template as a regex, and its precedence (lower matches first)."""
    parts: list[str] = []
    precedence: list[int] = []
    for segment in route.strip("/").split("/"):
        tokens = list(ROUTE_TOKEN.finditer(segment))
        if not tokens:
            parts.append("/" + re.escape(segment))
            precedence.append(0)
            continue
        regex, position, rank = "", 0, 1
        for token in tokens:
            regex += re.escape(segment[position : token.start()])
            catch_all, name, constraint, optional = token.groups()
            if catch_all:
                body, rank = ".*", 3
            elif constraint:
                body = CONSTRAINTS.get(constraint.split("(")[0], "[^/]+")
            else:
                body, rank = "[^/]+", 2
            regex += f"(?P<{name}>{body})" + ("?" if optional else "")
            position = token.end()
        regex += re.escape(segment[position:])
        optional_segment = len(tokens) == 1 and tokens[0].group(4) and regex.endswith(")?")
        parts.append(f"(?:/{regex})?" if optional_segment else f"/{regex}")
        precedence.append(rank)
    return re.compile("^" + "".join(parts) + "/?$", re.IGNORECASE), tuple(precedence)


def http_functions(functions: list[func.Function]) -> list[HttpFunction]:
    found: list[HttpFunction] = []
    for target, trigger in triggered_by("httpTrigger", functions):
        route = str(trigger.get("route") or target.name)
        methods = trigger.get("methods") or list(func.HttpMethod)
        pattern, precedence = compile_route(route)
        found.append(
            HttpFunction(
                target.name,
                target.binding,
                target.function,
                route=route,
                methods=frozenset(str(getattr(m, "value", m)).upper() for m in methods),
                pattern=pattern,
                precedence=precedence,
            )
        )
    return sorted(found, key=lambda f: (f.precedence, -len(f.route)))


PROBLEM_SLUGS = {
    400: "bad-request",
    404: "not-found",
    405: "method-not-allowed",
    500: "internal",
}


def problem(status: int, title: str, detail: str) -> Response:
    """The host's own refusals, typed as the app's problems are (``urn:familystory:problem:``)."""
    kind = PROBLEM_SLUGS.get(status, "host")
    body = {"type": PROBLEM_TYPE_BASE + kind, "title": title, "status": status, "detail": detail}
    return Response(json.dumps(body), status, media_type="application/problem+json")


class HttpHost:
    def __init__(self, functions: list[HttpFunction], prefix: str) -> None:
        self.functions = functions
        self.prefix = prefix

    def match(self, method: str, path: str) -> tuple[HttpFunction, dict[str, str]] | Response:
        if not path.lower().startswith(self.prefix.lower()):
            return problem(404, "Not found", "No function serves this path.")
        relative = path[len(self.prefix) :] or "/"
        allowed: set[str] = set()
        for candidate in self.functions:
            matched = candidate.pattern.match(relative)
            if matched is None:
                continue
            if method in candidate.methods:
                values = {k: v for k, v in matched.groupdict().items() if v is not None}
                return candidate, values
            allowed |= candidate.methods
        if allowed:
            response = problem(405, "Method not allowed", f"{method} is not allowed here.")
            response.headers["Allow"] = ", ".join(sorted(allowed))
            return response
        return problem(404, "Not found", "No function serves this path.")

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        method = request.method.upper()
        matched = self.match(method, request.url.path)
        if isinstance(matched, Response):
            return matched
        function, route_params = matched
        body = await request.body()
        http_request = func.HttpRequest(
            method=method,
            url=str(request.url),
            headers=dict(request.headers),
            params=dict(request.query_params),
            route_params=route_params,
            body=body,
        )
        try:
            trace_context = TraceContext(
                request.headers.get("traceparent", ""), request.headers.get("tracestate", "")
            )
            result = await run_function(call_user_function, function, http_request, trace_context)
            response = to_starlette(result)
        except Exception:
            invocation = str(uuid.uuid4())
            log.exception("function %s raised (invocation %s)", function.name, invocation)
            response = problem(
                500, "Internal server error", f"An unexpected error occurred ({invocation})."
            )
        log.info(
            "%s %s -> %s %s (%.1f ms)",
            method,
            request.url.path,
            function.name,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response


def to_starlette(result: Any) -> Response:
    if not isinstance(result, func.HttpResponse):
        raise TypeError(f"HTTP function returned {type(result).__name__}, not HttpResponse")
    headers = {k: v for k, v in result.headers.items() if k.lower() != "content-type"}
    media_type = result.mimetype
    if result.charset and media_type and "charset" not in media_type:
        media_type = f"{media_type}; charset={result.charset}"
    content_type = result.headers.get("content-type") or media_type
    response = Response(result.get_body(), result.status_code, headers=headers)
    if content_type and result.get_body():
        response.headers["content-type"] = content_type
    return response


def build_asgi(
    functions: list[func.Function],
    keys: Mapping[str, str] | None = None,
    cors: CorsPolicy | None = None,
) -> tuple[Starlette, EventGridWebhook]:
    """The host's HTTP app (functions under the route prefix, and the Event Grid webhook, which
    asks for ``keys``), behind the platform's CORS (``cors``, by default ``Host.CORS`` of the
    local settings), and the webhook itself, which local Event Grid deliveries also go through."""
    host = HttpHost(http_functions(functions), route_prefix())
    webhook = EventGridWebhook(event_grid_functions(functions), keys or {}, invoke_logged, problem)
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

    async def handle(request: Request) -> Response:
        if request.url.path.rstrip("/").lower() == EVENT_GRID_PATH:
            return await webhook.handle(request)
        return await host.handle(request)

    asgi = Starlette(
        routes=[Route("/{path:path}", handle, methods=methods)],
        exception_handlers={HTTPException: host_refusal, Exception: host_failure},
        middleware=[Middleware(CorsMiddleware, policy=cors or local_cors_policy())],
    )
    return asgi, webhook


async def host_refusal(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    response = problem(error.status_code, error.detail, f"{request.method} is not served here.")
    response.headers.update(error.headers or {})
    return response


async def host_failure(request: Request, error: Exception) -> Response:
    log.error("host error on %s %s: %r", request.method, request.url.path, error)
    return problem(500, "Internal server error", "The local host failed to handle the request.")
