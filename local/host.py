"""A local Functions host for machines without Azure Functions Core Tools.

It loads ``function_app.py`` and reads every function's trigger from the ``azure-functions``
library's own metadata (``app.get_functions()``), so routes, blob paths and schedules are
declared once, in the decorators:

- HTTP triggers are served at their routes under the ``host.json`` route prefix;
- blob triggers fire when a matching blob appears or changes in Azurite, once per version;
  Event Grid functions subscribed to a container's blob-created events (``local.subscriptions``,
  the local stand-in for the Bicep subscriptions) get those events the same way;
- timer triggers run on their NCRONTAB schedules (``%SETTING%`` resolved from settings);
- Event Grid triggers take events POSTed to ``/runtime/webhooks/eventgrid?functionName=<name>``,
  as the real host's webhook does (Event Grid schema arrays or CloudEvents, and the
  subscription validation handshake), so a developer can deliver an event by hand.

Each invocation is logged with its function, status and duration; an exception inside a
function becomes a 500 problem+json (HTTP) or a logged failure, never a crash of the host.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import os
import re
import time
import typing
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import azure.functions as func
from azure.functions.timer import TimerRequest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from functions.http import PROBLEM_TYPE_BASE
from local.config import ROOT
from local.eventgrid import (
    EVENT_GRID_PATH,
    DeliveryRules,
    EventGrid,
    EventGridWebhook,
    blob_created_event,
    event_grid_functions,
    host_keys,
    keys_path,
)
from local.host_rules import check_registration
from local.queues import QueueListener, QueueOptions, queue_functions
from local.subscriptions import (
    BLOB_CREATED_SUBSCRIPTIONS,
    BlobCreatedSubscription,
    FunctionDestination,
    QueueDestination,
)

log = logging.getLogger("familystory.host")

SETTING_EXPRESSION = re.compile(r"%([A-Za-z0-9_]+)%")
ROUTE_TOKEN = re.compile(r"\{(\*)?([A-Za-z_][A-Za-z0-9_]*)(?::([^}?]*))?(\?)?\}")
CONSTRAINTS = {
    "int": r"-?\d+",
    "long": r"-?\d+",
    "guid": r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    "alpha": r"[A-Za-z]+",
    "bool": r"(?i:true|false)",
}
BLOB_RETRIES = 5
KEEP_ALIVE_SECONDS = 75


def trigger_of(function: func.Function) -> dict[str, Any]:
    trigger = function.get_trigger()
    return {} if trigger is None else dict(trigger.get_dict_repr())


def load_app(module: str = "function_app") -> func.FunctionApp:
    import importlib

    app = importlib.import_module(module).app
    if not isinstance(app, func.FunctionApp):
        raise TypeError(f"{module}.app is not an azure.functions.FunctionApp")
    return app


def resolve_setting_expressions(value: str, settings: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in settings:
            raise KeyError(f"setting {name} used in a trigger is not set")
        return settings[name]

    return SETTING_EXPRESSION.sub(replace, value)


def route_prefix(host_json: Path = ROOT / "host.json") -> str:
    prefix = json.loads(host_json.read_text()).get("extensions", {}).get("http", {})
    value = str(prefix.get("routePrefix", "api")).strip("/")
    return f"/{value}" if value else ""


class Invocation:
    """What a function's ``context`` parameter receives."""

    def __init__(self, function_name: str) -> None:
        self.invocation_id = str(uuid.uuid4())
        self.function_name = function_name
        self.function_directory = str(ROOT)
        self.trace_context = None
        self.retry_context = None
        self.thread_local_storage = None


def call_user_function(
    function: Callable[..., Any], binding: str, value: Any, function_name: str
) -> Any:
    parameters = inspect.signature(function).parameters
    arguments: dict[str, Any] = {binding: value}
    if "context" in parameters:
        arguments["context"] = Invocation(function_name)
    return function(**arguments)


# --- HTTP -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpFunction:
    name: str
    route: str
    methods: frozenset[str]
    binding: str
    function: Callable[..., Any]
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
    for function in functions:
        trigger = trigger_of(function)
        if trigger.get("type") != "httpTrigger":
            continue
        route = str(trigger.get("route") or function.get_function_name())
        methods = trigger.get("methods") or list(func.HttpMethod)
        pattern, precedence = compile_route(route)
        found.append(
            HttpFunction(
                name=str(function.get_function_name()),
                route=route,
                methods=frozenset(str(getattr(m, "value", m)).upper() for m in methods),
                binding=str(trigger["name"]),
                function=function.get_user_function(),
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
            result = await run_in_threadpool(
                call_user_function, function.function, function.binding, http_request,
                function.name,
            )  # fmt: skip
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
    functions: list[func.Function], keys: Mapping[str, str] | None = None
) -> tuple[Starlette, EventGridWebhook]:
    """The host's HTTP app (functions under the route prefix, and the Event Grid webhook, which
    asks for ``keys``) and the webhook itself, which local Event Grid deliveries also go through."""
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


# --- Timers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimerFunction:
    name: str
    schedule: str
    binding: str
    function: Callable[..., Any]
    run_on_startup: bool = False


def timer_functions(
    functions: list[func.Function], settings: Mapping[str, str]
) -> list[TimerFunction]:
    from croniter import croniter

    found: list[TimerFunction] = []
    for function in functions:
        trigger = trigger_of(function)
        if trigger.get("type") != "timerTrigger":
            continue
        schedule = resolve_setting_expressions(str(trigger["schedule"]), settings)
        if len(schedule.split()) != 6 or not croniter.is_valid(schedule, second_at_beginning=True):
            raise ValueError(
                f"{function.get_function_name()}: schedule {schedule!r} is not a six-field "
                "NCRONTAB expression (seconds first)"
            )
        found.append(
            TimerFunction(
                name=str(function.get_function_name()),
                schedule=schedule,
                binding=str(trigger["name"]),
                function=function.get_user_function(),
                run_on_startup=bool(trigger.get("runOnStartup")),
            )
        )
    return found


def next_occurrence(schedule: str, after: datetime) -> datetime:
    from croniter import croniter

    result = croniter(schedule, after, second_at_beginning=True).get_next(datetime)
    assert isinstance(result, datetime)
    return result


async def run_timer(timer: TimerFunction, clock: Callable[[], datetime]) -> None:
    last: datetime | None = None
    if timer.run_on_startup:
        await invoke_timer(timer, past_due=False, last=None)
    while True:
        now = clock()
        due = next_occurrence(timer.schedule, now)
        await asyncio.sleep(max(0.0, (due - clock()).total_seconds()))
        past_due = (clock() - due).total_seconds() > 1
        await invoke_timer(timer, past_due=past_due, last=last)
        last = due


async def invoke_timer(timer: TimerFunction, *, past_due: bool, last: datetime | None) -> None:
    request = TimerRequest(
        past_due=past_due,
        schedule_status={"Last": last.isoformat() if last else None},
        schedule={"AdjustForDST": True},
    )
    await invoke_logged(timer.name, timer.function, timer.binding, request)


async def invoke_logged(name: str, function: Callable[..., Any], binding: str, value: Any) -> bool:
    started = time.perf_counter()
    try:
        await run_in_threadpool(call_user_function, function, binding, value, name)
    except Exception:
        log.exception("%s failed (%.1f ms)", name, (time.perf_counter() - started) * 1000)
        return False
    log.info("%s succeeded (%.1f ms)", name, (time.perf_counter() - started) * 1000)
    return True


# --- Blobs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlobFunction:
    name: str
    container: str
    pattern: re.Pattern[str]
    connection: str
    binding: str
    function: Callable[..., Any]
    subscription: BlobCreatedSubscription | None = None  # raises events instead of running


def compile_blob_path(path: str) -> tuple[str, re.Pattern[str]]:
    container, _, blob = path.partition("/")
    regex, position = "", 0
    for token in re.finditer(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", blob):
        regex += re.escape(blob[position : token.start()]) + f"(?P<{token.group(1)}>.+?)"
        position = token.end()
    regex += re.escape(blob[position:])
    return container, re.compile(f"^{regex or '.+'}$")


def blob_functions(functions: list[func.Function]) -> list[BlobFunction]:
    found: list[BlobFunction] = []
    for function in functions:
        trigger = trigger_of(function)
        if trigger.get("type") != "blobTrigger":
            continue
        container, pattern = compile_blob_path(str(trigger["path"]))
        found.append(
            BlobFunction(
                name=str(function.get_function_name()),
                container=container,
                pattern=pattern,
                connection=str(trigger.get("connection") or "AzureWebJobsStorage"),
                binding=str(trigger["name"]),
                function=function.get_user_function(),
            )
        )
    return found


def blob_event_sources(
    subscriptions: tuple[BlobCreatedSubscription, ...] = BLOB_CREATED_SUBSCRIPTIONS,
) -> list[BlobFunction]:
    """The containers whose blob-created events Event Grid subscriptions deliver: the watcher
    raises each event once per blob version, and the local Event Grid delivers it."""
    return [
        BlobFunction(
            name=subscription.name,
            container=subscription.container,
            pattern=re.compile("^.+$"),
            connection=subscription.connection,
            binding="",
            function=lambda: None,
            subscription=subscription,
        )
        for subscription in subscriptions
    ]


def blob_argument(function: BlobFunction, service: Any, blob: Any) -> Any:
    """What the function's blob parameter asks for: a BlobClient, a name, or an InputStream."""
    client = service.get_blob_client(function.container, blob.name)
    annotation = inspect.signature(function.function).parameters[function.binding].annotation
    with contextlib.suppress(Exception):  # PEP 563 string annotations, resolved as the worker does
        annotation = typing.get_type_hints(function.function).get(function.binding, annotation)
    type_name = getattr(annotation, "__name__", str(annotation))
    if type_name == "BlobClient":
        return client
    if annotation is str or type_name == "str":
        return f"{function.container}/{blob.name}"
    return func.blob.InputStream(
        data=client.download_blob().readall(),
        name=f"{function.container}/{blob.name}",
        uri=client.url,
        length=blob.size,
        blob_properties={"ETag": blob.etag, "ContentType": blob.content_settings.content_type},
        metadata=dict(blob.metadata or {}),
    )


class BlobWatcher:
    """Polls Azurite; fires each function once per blob version (by ETag) with retries.

    Receipts are kept as blobs in ``azure-webjobs-hosts`` (as the real host does), so a restart
    does not fire again for versions already handled.
    """

    RECEIPTS = "azure-webjobs-hosts"

    def __init__(
        self,
        functions: list[BlobFunction],
        settings: Mapping[str, str],
        events: EventGrid | None = None,
    ) -> None:
        from azure.storage.blob import BlobServiceClient

        self.functions = functions
        self.events = events
        self.services = {
            f.connection: BlobServiceClient.from_connection_string(settings[f.connection])
            for f in functions
        }
        self.receipts: dict[str, str] = {}

    def _receipt_name(self, function: BlobFunction, blob_name: str) -> str:
        return f"blobreceipts/local/{function.name}/{function.container}/{blob_name}"

    def load_receipts(self) -> None:
        from azure.core.exceptions import ResourceExistsError

        for service in self.services.values():
            with contextlib.suppress(ResourceExistsError):
                service.create_container(self.RECEIPTS)
            receipts = service.get_container_client(self.RECEIPTS)
            for item in receipts.list_blobs(
                name_starts_with="blobreceipts/local/", include=["metadata"]
            ):
                self.receipts[item.name] = (item.metadata or {}).get("etag", "")

    def pending(self) -> list[tuple[BlobFunction, Any, Any]]:
        from azure.core.exceptions import ResourceNotFoundError

        work: list[tuple[BlobFunction, Any, Any]] = []
        for function in self.functions:
            service = self.services[function.connection]
            container = service.get_container_client(function.container)
            try:
                blobs = list(container.list_blobs(include=["metadata"]))
            except ResourceNotFoundError:
                continue
            for blob in blobs:
                if not function.pattern.match(blob.name):
                    continue
                etag = str(blob.etag).strip('"')
                if self.receipts.get(self._receipt_name(function, blob.name)) != etag:
                    work.append((function, service, blob))
        return work

    def write_receipt(self, function: BlobFunction, service: Any, blob: Any, outcome: str) -> None:
        name = self._receipt_name(function, blob.name)
        etag = str(blob.etag).strip('"')
        service.get_blob_client(self.RECEIPTS, name).upload_blob(
            b"", overwrite=True, metadata={"etag": etag, "outcome": outcome}
        )
        self.receipts[name] = etag

    async def fire(self, function: BlobFunction, service: Any, blob: Any) -> None:
        if function.subscription is not None:
            await self.raise_event(function, function.subscription, service, blob)
            return
        for attempt in range(1, BLOB_RETRIES + 1):
            try:
                argument = await run_in_threadpool(blob_argument, function, service, blob)
            except Exception:
                log.exception("%s: cannot read %s", function.name, blob.name)
                return
            if await invoke_logged(function.name, function.function, function.binding, argument):
                await run_in_threadpool(self.write_receipt, function, service, blob, "succeeded")
                return
            await asyncio.sleep(min(2**attempt * 0.25, 4))
        log.error("%s: giving up on %s after %d attempts", function.name, blob.name, BLOB_RETRIES)
        await run_in_threadpool(self.write_receipt, function, service, blob, "poisoned")

    async def raise_event(
        self,
        function: BlobFunction,
        subscription: BlobCreatedSubscription,
        service: Any,
        blob: Any,
    ) -> None:
        """As Azure Storage does: one ``BlobCreated`` event for the version, to Event Grid."""
        assert self.events is not None, "blob-created subscriptions need the local Event Grid"
        url = service.get_blob_client(function.container, blob.name).url
        event = blob_created_event(
            function.container,
            blob.name,
            url,
            str(blob.etag).strip('"'),
            int(blob.size),
            blob.content_settings.content_type,
        )
        self.events.publish(subscription, event)
        await run_in_threadpool(self.write_receipt, function, service, blob, "raised")

    async def run(self, interval: float = 1.0) -> None:
        await run_in_threadpool(self.load_receipts)
        while True:
            try:
                work = await run_in_threadpool(self.pending)
            except Exception:  # noqa: BLE001 - Azurite down: keep polling until it returns
                log.warning("blob watcher cannot reach storage; retrying")
                work = []
            for function, service, blob in work:
                await self.fire(function, service, blob)
            await asyncio.sleep(interval)


# --- Entry point ------------------------------------------------------------------------------


def served_subscriptions(
    subscriptions: tuple[BlobCreatedSubscription, ...],
    functions: list[func.Function],
    queues: list[str],
) -> tuple[BlobCreatedSubscription, ...]:
    """The subscriptions whose destination this app serves (a test app serves none of them)."""
    event_functions = {f.name for f in event_grid_functions(functions)}
    return tuple(
        s
        for s in subscriptions
        if (
            isinstance(s.destination, FunctionDestination)
            and s.destination.function in event_functions
        )
        or (isinstance(s.destination, QueueDestination) and s.destination.queue in queues)
    )


async def serve(
    port: int,
    settings: Mapping[str, str],
    host: str = "127.0.0.1",
    app: str = "function_app",
    subscriptions: tuple[BlobCreatedSubscription, ...] = BLOB_CREATED_SUBSCRIPTIONS,
) -> None:
    import uvicorn

    functions = load_app(app).get_functions()  # the library allows one call per app
    check_registration(functions, settings)
    keys = host_keys(keys_path(settings))
    asgi, webhook = build_asgi(functions, keys)
    rules = DeliveryRules.from_environment(settings)
    listeners = [
        QueueListener(
            function,
            settings,
            QueueOptions.from_host_json(time_scale=rules.time_scale),
            invoke_logged,
        )
        for function in queue_functions(
            functions, lambda value: resolve_setting_expressions(value, settings)
        )
    ]
    served = served_subscriptions(
        subscriptions, functions, [listener.function.queue for listener in listeners]
    )
    events = EventGrid(webhook, settings, rules)
    tasks: list[asyncio.Task[None]] = []
    blobs = blob_functions(functions) + blob_event_sources(served)
    if blobs:
        tasks.append(asyncio.create_task(BlobWatcher(blobs, settings, events).run()))
    for listener in listeners:
        tasks.append(asyncio.create_task(listener.run()))
    for timer in timer_functions(functions, settings):
        tasks.append(asyncio.create_task(run_timer(timer, lambda: datetime.now(UTC))))
    config = uvicorn.Config(
        asgi,
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        # Longer than clients keep idle connections (httpx: 5 s, uvicorn's own default), so a
        # client never reuses a connection the host is closing at that very moment.
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    server = uvicorn.Server(config)
    try:
        await server.serve()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    for noisy in ("azure", "uvicorn.error"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main() -> None:
    import argparse

    from local.config import apply_local_settings

    parser = argparse.ArgumentParser(description="Run function_app.py locally.")
    parser.add_argument("--port", type=int, default=7071)
    parser.add_argument("--app", default="function_app", help="module holding the FunctionApp")
    args = parser.parse_args()
    settings = apply_local_settings()
    configure_logging(os.environ.get("LOG_LEVEL", "INFO"))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, {**settings, **os.environ}, app=args.app))


if __name__ == "__main__":
    main()
