"""Telemetry of each invocation: one span per function run, under the Functions host's trace.

Off unless a destination is configured: ``APPLICATIONINSIGHTS_CONNECTION_STRING`` (Azure) or
``OTEL_EXPORTER_OTLP_ENDPOINT`` (any OTLP/HTTP collector, locally too). ``start`` only reads the
environment, so a cold start pays nothing for it; the exporters, the OpenTelemetry SDK and the
Azure SDKs' tracing plugin are set up by the first invocation that needs them (the installer
``shared.bootstrap`` hands over, from ``shared.adapters.telemetry``). When telemetry is off,
``invocation`` imports nothing and records nothing.

The span of an invocation is a child of the trace context the host passes the worker
(``context.trace_context``), so the host's request, the function span, the dependency spans of
Cosmos DB, Blob Storage, ACS and Speech, and the logs written meanwhile are one trace. Log
records and spans carry the invocation id, the function and the family id (when the route names
one) as attributes; never a name, a note, a phone number, a token or a URL's query.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("familystory.telemetry")

CONNECTION_STRING = "APPLICATIONINSIGHTS_CONNECTION_STRING"
OTLP_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
SAMPLING_RATIO = "TELEMETRY_SAMPLING_RATIO"
DEFAULT_SAMPLING_RATIO = 0.25

# Attribute names on spans and log records.
INVOCATION_ID = "faas.invocation_id"
TRIGGER = "faas.trigger"
FUNCTION = "familystory.function"
FAMILY_ID = "familystory.family_id"
STATUS_CODE = "http.response.status_code"


@dataclass(frozen=True)
class Destination:
    """Where telemetry goes: Application Insights, an OTLP/HTTP endpoint, or both."""

    connection_string: str = ""
    otlp_endpoint: str = ""
    client_id: str = ""
    sampling_ratio: float = DEFAULT_SAMPLING_RATIO

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Destination | None:
        """The configured destination, or None when telemetry is off (neither is set)."""
        connection_string = environ.get(CONNECTION_STRING, "").strip()
        otlp_endpoint = environ.get(OTLP_ENDPOINT, "").strip()
        if not connection_string and not otlp_endpoint:
            return None
        return cls(
            connection_string=connection_string,
            otlp_endpoint=otlp_endpoint,
            client_id=environ.get("AZURE_CLIENT_ID", "").strip(),
            sampling_ratio=sampling_ratio(environ.get(SAMPLING_RATIO, "")),
        )


def sampling_ratio(value: str) -> float:
    """The share of successful invocations whose trace is kept, 0 to 1; a value that is not a
    number there falls back to the default with a warning (a typo must not stop the app)."""
    if not value.strip():
        return DEFAULT_SAMPLING_RATIO
    try:
        ratio = float(value)
    except ValueError:
        ratio = -1.0
    if not 0.0 <= ratio <= 1.0:
        log.warning(
            "%s %r is not a number from 0 to 1; using %s",
            SAMPLING_RATIO,
            value,
            DEFAULT_SAMPLING_RATIO,
        )
        return DEFAULT_SAMPLING_RATIO
    return ratio


Installer = Callable[[Destination], None]

_lock = threading.Lock()
_pending: tuple[Destination, Installer] | None = None
_installed = False
_fields: ContextVar[Mapping[str, str] | None] = ContextVar("familystory_telemetry", default=None)


def start(installer: Installer, environ: Mapping[str, str] = os.environ) -> Destination | None:
    """Note where telemetry goes (nothing is imported here); the first invocation installs it."""
    global _pending
    destination = Destination.from_environment(environ)
    with _lock:
        _pending = None if destination is None else (destination, installer)
    return destination


def enabled() -> bool:
    return _pending is not None or _installed


def install_now() -> None:
    """Install the pending set-up, once per process; a failure is logged, never raised (the app
    must serve requests whether or not its telemetry works)."""
    global _pending, _installed
    if _pending is None:
        return
    with _lock:
        if _pending is None:
            return
        destination, installer = _pending
        _pending = None
        try:
            installer(destination)
            _installed = True
        except Exception:  # telemetry must never stop the app
            log.exception("telemetry could not be set up; the app runs without it")


def current_fields() -> Mapping[str, str]:
    """The structured fields of the invocation running in this context (for log records)."""
    return _fields.get() or {}


class Invocation:
    """What a function run tells its span: attributes, the HTTP status, and the error."""

    def __init__(self, span: Any = None) -> None:
        self._span = span

    def set(self, name: str, value: str | int | float | bool) -> None:
        if self._span is not None:
            self._span.set_attribute(name, value)
        if name == FAMILY_ID:
            _fields.set({**current_fields(), FAMILY_ID: str(value)})

    def answered(self, status: int) -> None:
        """The HTTP status the edge answered; 5xx marks the span as failed."""
        if self._span is None:
            return
        self._span.set_attribute(STATUS_CODE, status)
        if status >= 500:
            from opentelemetry.trace import Status, StatusCode

            self._span.set_status(Status(StatusCode.ERROR))

    def failed(self, error: BaseException) -> None:
        """Record an error on the span (also one the edge turns into a 500): its type and where
        it was raised, never its message, which may quote the data being handled."""
        if self._span is None:
            return
        from opentelemetry.trace import Status, StatusCode

        self._span.record_exception(error, attributes=exception_attributes(error))
        self._span.set_status(Status(StatusCode.ERROR, type(error).__name__))


def exception_attributes(error: BaseException) -> dict[str, str]:
    """``exception.*`` attributes without the message: the type and the frames only."""
    import traceback

    kind = type(error)
    name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
    frames = "".join(traceback.format_tb(error.__traceback__))
    return {
        "exception.type": name,
        "exception.message": name,
        "exception.stacktrace": f"Traceback (most recent call last):\n{frames}{name}",
    }


@contextmanager
def invocation(
    function: str,
    invocation_id: str,
    trigger: str,
    trace_parent: str | None = None,
    trace_state: str | None = None,
) -> Iterator[Invocation]:
    """One function run: a span named after the function (when telemetry is on) under the
    host's trace context, and the run's fields for the log records written meanwhile. An error
    that escapes is recorded on the span and raised again."""
    fields = {INVOCATION_ID: invocation_id, FUNCTION: function}
    token = _fields.set(fields)
    try:
        if enabled():
            install_now()
        if not _installed:
            yield Invocation()
            return
        with _span(function, fields, trigger, trace_parent, trace_state) as span:
            run = Invocation(span)
            try:
                yield run
            except Exception as error:
                run.failed(error)
                raise
    except Exception:
        if _installed:  # exported with the run's fields: failures counted by function
            log.exception("%s failed", function)
        raise
    finally:
        _fields.reset(token)


@contextmanager
def _span(
    function: str,
    fields: Mapping[str, str],
    trigger: str,
    trace_parent: str | None,
    trace_state: str | None,
) -> Iterator[Any]:
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carrier = {"traceparent": trace_parent or "", "tracestate": trace_state or ""}
    parent = TraceContextTextMapPropagator().extract(carrier) if trace_parent else None
    tracer = trace.get_tracer("familystory")
    with tracer.start_as_current_span(
        function,
        context=parent,
        kind=trace.SpanKind.INTERNAL,
        attributes={**fields, TRIGGER: trigger},
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        yield span


def reset() -> None:
    """Forget the set-up (tests): the next ``start`` decides again. Providers already installed
    stay installed, as OpenTelemetry allows one per process."""
    global _pending, _installed
    with _lock:
        _pending = None
        _installed = False
