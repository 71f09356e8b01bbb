"""The telemetry pipeline: OpenTelemetry's SDK, the Azure Monitor exporters of the
``azure-monitor-opentelemetry`` distribution, and the Azure SDKs' own tracing plugin.

``install`` runs once per process, at the first invocation (``shared.telemetry``). It builds:

- a tracer provider recording every span, whose spans reach the exporters only through
  ``ExportPolicy``: a trace is kept whole when its invocation failed (its span marked as an
  error, or a 5xx answer), and otherwise with the probability ``TELEMETRY_SAMPLING_RATIO`` (decided
  from the trace id, so every instance decides alike; App Insights scales its counts by the
  sample rate set on kept spans);
- a logger provider fed by a handler on the root logger, which takes the levels
  ``shared.log_levels`` set (the Azure SDKs at WARNING unless LOG_LEVEL is DEBUG);
- azure-core's tracing plugin, so that every Cosmos DB, Blob Storage, ACS and Speech call is a
  dependency span under the function's span.

Nothing personal leaves the process: span and log attributes pass through ``scrub`` (URL queries
removed; tokens, e-mail addresses and phone numbers blanked; attributes whose name says they
hold a name, a note or a secret dropped), and exceptions are recorded with their type and frames,
never their message. ``configure_azure_monitor`` is not used: its trace pipeline samples when a
trace starts (5 traces a second by default), so it cannot keep every failed request, and it
gives no place to scrub a span's attributes before export.

In Azure the exporters sign in with the app's managed identity (local auth is off on the
Application Insights component); ``OTEL_EXPORTER_OTLP_ENDPOINT`` adds an OTLP/HTTP exporter
(the local collector of ``make run``).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry.sdk._logs import LogRecordProcessor, ReadWriteLogRecord
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from shared import telemetry

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.sdk._logs.export import LogRecordExporter
    from opentelemetry.sdk.trace import Span
    from opentelemetry.sdk.trace.export import SpanExporter

SERVICE_NAMESPACE = "familystory"
SAMPLE_RATE = "_MS.sampleRate"  # read by the Azure Monitor exporter: 100 / kept share = weight
MAX_OPEN_TRACES = 2048
MAX_SPANS_PER_TRACE = 512
DECISIONS_KEPT = 8192
# The worker's own loggers, and the pipeline's, are never exported (the second would loop).
UNEXPORTED_LOGGERS = ("azure_functions_worker", "opentelemetry", "azure.monitor.opentelemetry")


def install(destination: telemetry.Destination) -> None:
    from opentelemetry import _logs, trace
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ALWAYS_ON

    span_exporters, log_exporters = exporters(destination)
    resource = Resource.create(
        {
            "service.name": os.environ.get("WEBSITE_SITE_NAME") or "familystory",
            "service.namespace": SERVICE_NAMESPACE,
        }
    )
    tracer_provider = TracerProvider(resource=resource, sampler=ALWAYS_ON)
    tracer_provider.add_span_processor(
        ExportPolicy(
            [BatchSpanProcessor(exporter) for exporter in span_exporters],
            destination.sampling_ratio,
        )
    )
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(
        ScrubbedLogs([BatchLogRecordProcessor(exporter) for exporter in log_exporters])
    )
    trace.set_tracer_provider(tracer_provider)
    _logs.set_logger_provider(logger_provider)
    logging.getLogger().addHandler(log_handler(logger_provider))
    trace_azure_sdks()


def exporters(
    destination: telemetry.Destination,
) -> tuple[list[SpanExporter], list[LogRecordExporter]]:
    spans: list[SpanExporter] = []
    logs: list[LogRecordExporter] = []
    if destination.connection_string:
        from azure.identity import ManagedIdentityCredential
        from azure.monitor.opentelemetry.exporter import (
            AzureMonitorLogExporter,
            AzureMonitorTraceExporter,
        )

        credential = ManagedIdentityCredential(client_id=destination.client_id or None)
        options = {"connection_string": destination.connection_string, "credential": credential}
        spans.append(AzureMonitorTraceExporter(**options))
        logs.append(AzureMonitorLogExporter(**options))
    if destination.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        base = destination.otlp_endpoint.rstrip("/")
        spans.append(OTLPSpanExporter(endpoint=f"{base}/v1/traces"))
        logs.append(OTLPLogExporter(endpoint=f"{base}/v1/logs"))
    return spans, logs


def trace_azure_sdks() -> None:
    """Every Azure SDK call becomes a span (azure-core's DistributedTracingPolicy)."""
    from azure.core.settings import settings
    from azure.core.tracing.ext.opentelemetry_span import OpenTelemetrySpan

    settings.tracing_implementation = OpenTelemetrySpan


def log_handler(provider: Any) -> logging.Handler:
    from opentelemetry.instrumentation.logging.handler import LoggingHandler

    class Handler(LoggingHandler):
        """Exports log records with their ``extra`` fields as attributes, and an exception as
        its type and frames only (``shared.telemetry.exception_attributes``)."""

        def emit(self, record: logging.LogRecord) -> None:
            if record.name.startswith(UNEXPORTED_LOGGERS):
                return
            if record.exc_info and record.exc_info[1] is not None:
                record = logging.makeLogRecord(
                    {
                        **record.__dict__,
                        "exc_info": None,
                        "exc_text": None,
                        **telemetry.exception_attributes(record.exc_info[1]),
                    }
                )
            super().emit(record)

    return Handler(logger_provider=provider)


# --- What may leave the process ----------------------------------------------------------------

URL_QUERY = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s?#\"']*)\?[^\s#\"']*", re.I)
BEARER = re.compile(r"\bBearer\s+\S+", re.I)
JWT = re.compile(r"\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*")
SIGNATURE = re.compile(r"\b(sig|signature|code|token|key)=[^&\s\"']+", re.I)
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# International (+44 7700 900123) and UK national (07700 900123) numbers, separators allowed.
PHONE = re.compile(r"(?<![\w.])(?:\+\d(?:[ ()-]{0,2}\d){7,14}|0\d(?:[ -]?\d){8,9})(?![\w.])")
# Attribute names (their last part) that say the value is personal or secret.
PERSONAL_NAMES = frozenset(
    {
        "name",
        "displayname",
        "phone",
        "phonenumber",
        "email",
        "body",
        "text",
        "note",
        "caption",
        "transcript",
        "message_text",
        "token",
        "authorization",
        "password",
        "secret",
        "sas",
        "signature",
        "cookie",
    }
)
REDACTED = "REDACTED"


def scrub_text(value: str) -> str:
    value = URL_QUERY.sub(r"\1", value)
    value = BEARER.sub("Bearer " + REDACTED, value)
    value = JWT.sub(REDACTED, value)
    value = SIGNATURE.sub(lambda match: f"{match.group(1)}={REDACTED}", value)
    value = EMAIL.sub(REDACTED, value)
    return PHONE.sub(REDACTED, value)


def personal_name(key: str) -> bool:
    last = key.rsplit(".", 1)[-1].lower().replace("-", "_")
    return last in PERSONAL_NAMES


def scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, list | tuple):
        return type(value)(scrub_value(item) for item in value)
    return value


def scrub(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    """Attributes fit to export: personal or secret names dropped, values cleaned."""
    return {
        key: scrub_value(value)
        for key, value in (attributes or {}).items()
        if not personal_name(key)
    }


# --- Spans -------------------------------------------------------------------------------------


def local_root(span: ReadableSpan) -> bool:
    """The first span of this process in its trace: no parent, or a parent in another process
    (the Functions host, or the caller)."""
    return span.parent is None or span.parent.is_remote


def failed(span: ReadableSpan) -> bool:
    """Whether an invocation's span says it failed: marked as an error (an error escaped, or the
    edge answered 5xx). Only the function's own span counts: a dependency call that failed and
    was handled (a 404 read, a retried 429) is part of a request that went well."""
    if span.status.status_code is StatusCode.ERROR:
        return True
    status = (span.attributes or {}).get(telemetry.STATUS_CODE)
    server_side = span.kind in (SpanKind.SERVER, SpanKind.INTERNAL)
    return server_side and isinstance(status, int) and status >= 500


def kept_by_ratio(trace_id: int, ratio: float) -> bool:
    """The same answer for the same trace everywhere: the trace id's low 64 bits as a share."""
    return (trace_id & 0xFFFFFFFFFFFFFFFF) < ratio * 2**64


class ExportPolicy(SpanProcessor):
    """Holds each trace's spans until its local root (the function's span) ends, then passes the
    whole trace on (scrubbed) when the invocation failed or is sampled, and drops it otherwise.

    Memory is bounded: at most ``MAX_OPEN_TRACES`` traces wait at once and a trace holds at most
    ``MAX_SPANS_PER_TRACE`` spans; past either bound the trace is decided at once as kept, so
    nothing that might show a failure is lost for want of room. Spans ending after their root
    (work left running) follow the decision already made."""

    def __init__(self, downstream: Sequence[SpanProcessor], ratio: float) -> None:
        self.downstream = list(downstream)
        self.ratio = ratio
        self._lock = threading.Lock()
        self._open: OrderedDict[int, list[ReadableSpan]] = OrderedDict()
        self._decided: OrderedDict[int, float | None] = OrderedDict()  # sample rate, or dropped

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        trace_id = span.context.trace_id if span.context is not None else 0
        ready: list[tuple[ReadableSpan, float]] = []
        with self._lock:
            if trace_id in self._decided:
                rate = self._decided[trace_id]
                ready = [] if rate is None else [(span, rate)]
            else:
                spans = self._open.setdefault(trace_id, [])
                spans.append(span)
                if local_root(span):
                    ready += self._decide(trace_id, forced=False)
                elif len(spans) >= MAX_SPANS_PER_TRACE:
                    ready += self._decide(trace_id, forced=True)
                while len(self._open) > MAX_OPEN_TRACES:
                    ready += self._decide(next(iter(self._open)), forced=True)
        for item, rate in ready:
            exported = scrubbed(item, rate)
            for processor in self.downstream:
                processor.on_end(exported)

    def _decide(self, trace_id: int, forced: bool) -> list[tuple[ReadableSpan, float]]:
        spans = self._open.pop(trace_id)
        rate: float | None = 100.0
        if not forced and not any(failed(span) for span in spans if local_root(span)):
            rate = self.ratio * 100 if kept_by_ratio(trace_id, self.ratio) else None
        self._decided[trace_id] = rate
        while len(self._decided) > DECISIONS_KEPT:
            self._decided.popitem(last=False)
        return [] if rate is None else [(span, rate) for span in spans]

    def shutdown(self) -> None:
        for processor in self.downstream:
            processor.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return all(processor.force_flush(timeout_millis) for processor in self.downstream)


def scrubbed(span: ReadableSpan, sample_rate: float) -> ReadableSpan:
    """A copy of an ended span fit to export, weighted by its trace's sample rate."""
    attributes = scrub(span.attributes)
    if sample_rate < 100.0:
        attributes[SAMPLE_RATE] = sample_rate
    events = [Event(event.name, scrub(event.attributes), event.timestamp) for event in span.events]
    status = span.status
    if status.description:  # azure-core writes "<error type>: <message>"; keep the type only
        status = Status(status.status_code, status.description.split(":", 1)[0])
    return ReadableSpan(
        name=scrub_text(span.name),
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attributes,
        events=events,
        links=span.links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


# --- Logs --------------------------------------------------------------------------------------


class ScrubbedLogs(LogRecordProcessor):
    """Adds the running invocation's fields to each log record, cleans its body and attributes,
    and passes it on."""

    def __init__(self, downstream: Sequence[LogRecordProcessor]) -> None:
        self.downstream = list(downstream)

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        record = log_record.log_record
        attributes = {**telemetry.current_fields(), **dict(record.attributes or {})}
        record.attributes = scrub(attributes)
        if isinstance(record.body, str):
            record.body = scrub_text(record.body)
        for processor in self.downstream:
            processor.on_emit(log_record)

    def shutdown(self) -> None:
        for processor in self.downstream:
            processor.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return all(processor.force_flush(timeout_millis) for processor in self.downstream)
