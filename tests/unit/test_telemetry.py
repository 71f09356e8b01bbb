"""Telemetry: off unless configured, one span per invocation with its errors, whole traces kept
when anything failed, and nothing personal in what would be exported.

The pipeline's pieces run here on OpenTelemetry's in-memory exporters; the whole of it, through
the local host to an OTLP receiver, in ``tests/integration/test_telemetry_over_http.py``.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import azure.functions as func
import pytest
from opentelemetry import trace
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from functions.http import Call, EndpointSpec, traced
from functions.http.endpoints import dispatch
from shared import errors, telemetry
from shared.adapters.telemetry import (
    MAX_OPEN_TRACES,
    SAMPLE_RATE,
    ExportPolicy,
    ScrubbedLogs,
    kept_by_ratio,
    log_handler,
    scrub,
    scrub_text,
)
from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PHONE = "+447700900987"
NAME = "Ottoline Marchbanks"


# --- Off unless configured, and nothing imported at a cold start -------------------------------


def _modules_after_import(**environment: str) -> dict[str, bool]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in (telemetry.CONNECTION_STRING, telemetry.OTLP_ENDPOINT)
    }
    script = (
        "import json, sys, function_app\n"
        "print(json.dumps({name: any(m == name or m.startswith(name + '.') for m in sys.modules)"
        " for name in ('opentelemetry', 'azure.monitor', 'azure.identity', 'pydantic')}))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**env, **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, bool] = json.loads(completed.stdout)
    return result


def test_a_cold_start_imports_no_telemetry_whether_or_not_it_is_configured() -> None:
    off = _modules_after_import()
    on = _modules_after_import(
        APPLICATIONINSIGHTS_CONNECTION_STRING="InstrumentationKey=00000000-0000-0000-0000-0",
        OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:4318",
    )
    assert (
        off
        == on
        == {
            "opentelemetry": False,
            "azure.monitor": False,
            "azure.identity": False,
            "pydantic": False,
        }
    )


def test_no_destination_means_no_telemetry() -> None:
    assert telemetry.Destination.from_environment({}) is None
    assert telemetry.Destination.from_environment({"OTEL_EXPORTER_OTLP_ENDPOINT": " "}) is None
    found = telemetry.Destination.from_environment(
        {"APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=x", "AZURE_CLIENT_ID": "c"}
    )
    assert found == telemetry.Destination(connection_string="InstrumentationKey=x", client_id="c")


@pytest.mark.parametrize(
    ("value", "ratio"), [("", 0.25), ("0.5", 0.5), ("1", 1.0), ("0", 0.0), ("2", 0.25)]
)
def test_sampling_ratio_is_a_share_from_0_to_1(value: str, ratio: float) -> None:
    assert telemetry.sampling_ratio(value) == ratio


def test_a_sampling_ratio_that_is_not_a_number_warns_and_falls_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, "familystory.telemetry"):
        assert telemetry.sampling_ratio("half") == telemetry.DEFAULT_SAMPLING_RATIO
    assert "TELEMETRY_SAMPLING_RATIO 'half'" in caplog.text


def test_the_settings_module_declares_the_same_default_ratio() -> None:
    field = Settings.model_fields["telemetry_sampling_ratio"]
    assert field.default == telemetry.DEFAULT_SAMPLING_RATIO


def test_a_failing_set_up_leaves_the_app_running_without_telemetry(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(destination: telemetry.Destination) -> None:
        raise RuntimeError("no exporter")

    telemetry.start(broken, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"})
    try:
        with caplog.at_level(logging.ERROR), telemetry.invocation("f", "inv", "http") as run:
            run.answered(500)
        assert "telemetry could not be set up" in caplog.text
        assert not telemetry.enabled()
    finally:
        telemetry.reset()


# --- Spans of invocations ------------------------------------------------------------------------

MEMORY = InMemorySpanExporter()
POLICY = ExportPolicy([SimpleSpanProcessor(MEMORY)], 1.0)
ATTACHED: list[TracerProvider] = []


def _install_in_memory(destination: telemetry.Destination) -> None:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):  # one provider per process, set once
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    if provider not in ATTACHED:  # another test may have set it
        provider.add_span_processor(POLICY)
        ATTACHED.append(provider)
    POLICY.ratio = destination.sampling_ratio


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    telemetry.start(
        _install_in_memory,
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "memory", "TELEMETRY_SAMPLING_RATIO": "1"},
    )
    MEMORY.clear()
    yield MEMORY
    telemetry.reset()


def _dispatch(handler: object, route_params: dict[str, str] | None = None) -> int:
    spec = EndpointSpec("notes_get", "families/{familyId}/notes", ("GET",), "a test", auth=False)
    request = func.HttpRequest(
        "GET", "http://localhost/api/v1/x", body=b"", route_params=route_params or {}
    )
    with telemetry.invocation(
        "notes_get", "inv-7", "http", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    ) as run:
        response = dispatch(spec, handler, request, "inv-7", run)  # type: ignore[arg-type]
    return int(response.status_code)


def test_an_invocation_is_a_span_under_the_hosts_trace_context(
    spans: InMemorySpanExporter,
) -> None:
    family = "7d3f5800-35b1-4c75-85d6-d8fa293da3c5"
    assert _dispatch(lambda call: {"ok": True}, {"familyId": family.upper()}) == 200
    [span] = spans.get_finished_spans()
    assert span.name == "notes_get"
    assert span.context is not None
    assert span.parent is not None
    assert format(span.context.trace_id, "032x") == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert format(span.parent.span_id, "016x") == "00f067aa0ba902b7"
    assert dict(span.attributes or {}) == {
        "faas.invocation_id": "inv-7",
        "familystory.function": "notes_get",
        "faas.trigger": "http",
        "familystory.family_id": family,
        "http.response.status_code": 200,
    }
    assert span.status.status_code is StatusCode.UNSET


def test_an_error_the_edge_answers_500_is_recorded_on_the_span_without_its_message(
    spans: InMemorySpanExporter,
) -> None:
    def broken(call: Call) -> None:
        raise RuntimeError(f"{NAME} {PHONE}")

    assert _dispatch(broken) == 500
    [span] = spans.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None
    assert span.attributes["http.response.status_code"] == 500
    [event] = span.events
    assert event.name == "exception"
    attributes = dict(event.attributes or {})
    assert attributes["exception.type"] == "RuntimeError"
    assert attributes["exception.message"] == "RuntimeError"
    assert "in broken" in str(attributes["exception.stacktrace"])
    assert NAME not in json.dumps(attributes)
    assert PHONE not in json.dumps(attributes)


def test_answers_below_500_are_not_failures(spans: InMemorySpanExporter) -> None:
    def missing(call: Call) -> None:
        raise errors.NotFoundError("No such record.")

    assert _dispatch(missing) == 404
    [span] = spans.get_finished_spans()
    assert span.status.status_code is StatusCode.UNSET
    assert span.events == ()


def test_a_timer_function_that_raises_records_the_error_and_raises_it(
    spans: InMemorySpanExporter,
) -> None:
    @traced("timer")
    def nightly(timer: object, context: object = None) -> None:
        raise ValueError(PHONE)

    class Context:
        invocation_id = "inv-9"
        trace_context = None

    with pytest.raises(ValueError, match="7700"):
        nightly(timer=None, context=Context())
    [span] = spans.get_finished_spans()
    assert span.name == "nightly"
    assert span.attributes is not None
    assert span.attributes["faas.invocation_id"] == "inv-9"
    assert span.attributes["faas.trigger"] == "timer"
    assert span.status.status_code is StatusCode.ERROR
    assert PHONE not in json.dumps(dict(span.events[0].attributes or {}))


def test_telemetry_off_records_nothing() -> None:
    MEMORY.clear()
    with telemetry.invocation("f", "inv", "http") as run:
        run.answered(500)
        run.failed(RuntimeError("x"))
    assert MEMORY.get_finished_spans() == ()


# --- Which traces are exported ------------------------------------------------------------------


def _policy(ratio: float) -> tuple[TracerProvider, InMemorySpanExporter, ExportPolicy]:
    exporter = InMemorySpanExporter()
    policy = ExportPolicy([SimpleSpanProcessor(exporter)], ratio)
    provider = TracerProvider()
    provider.add_span_processor(policy)
    return provider, exporter, policy


def _request(
    provider: TracerProvider, *, fails: bool = False, child_fails: bool = False, status: int = 200
) -> int:
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("fn", kind=SpanKind.INTERNAL) as root:
        with tracer.start_as_current_span("ContainerProxy.read_item") as child:
            if child_fails:
                child.set_status(Status(StatusCode.ERROR, "CosmosResourceNotFoundError: gone"))
        root.set_attribute("http.response.status_code", status)
        if fails:
            root.set_status(Status(StatusCode.ERROR))
    return root.get_span_context().trace_id


def test_with_no_sampling_every_failed_invocation_is_still_exported_whole() -> None:
    provider, exporter, _ = _policy(0.0)
    _request(provider)
    _request(provider, child_fails=True)  # a 404 read the code handled: the request went well
    assert exporter.get_finished_spans() == ()
    _request(provider, fails=True, child_fails=True)
    _request(provider, status=503)
    exported = exporter.get_finished_spans()
    assert [span.name for span in exported] == [
        "ContainerProxy.read_item",
        "fn",
        "ContainerProxy.read_item",
        "fn",
    ]
    assert all(SAMPLE_RATE not in (s.attributes or {}) for s in exported)
    assert exported[0].status.description == "CosmosResourceNotFoundError"  # not its message


def test_sampled_traces_are_kept_whole_by_trace_id_and_weighted() -> None:
    provider, exporter, _ = _policy(0.5)
    kept = [tid for tid in (_request(provider) for _ in range(40)) if kept_by_ratio(tid, 0.5)]
    assert 5 < len(kept) < 35
    exported = exporter.get_finished_spans()
    assert len(exported) == 2 * len(kept)
    assert {span.context.trace_id for span in exported if span.context} == set(kept)
    assert {(span.attributes or {})[SAMPLE_RATE] for span in exported} == {50.0}


def test_a_span_ending_after_its_root_follows_the_traces_decision() -> None:
    provider, exporter, _ = _policy(0.0)
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("fn") as root:
        late = tracer.start_span("left running")
        root.set_status(Status(StatusCode.ERROR))
    late.end()
    assert [span.name for span in exporter.get_finished_spans()] == ["fn", "left running"]


def test_open_traces_past_the_bound_are_exported_rather_than_held() -> None:
    provider, exporter, policy = _policy(0.0)
    tracer = provider.get_tracer("test")
    roots = [tracer.start_span(f"root {n}") for n in range(MAX_OPEN_TRACES + 1)]
    for root in roots:
        with trace.use_span(root):
            tracer.start_span("child").end()
    assert [span.name for span in exporter.get_finished_spans()] == ["child"]
    for root in roots:
        root.end()
    assert len(policy._open) == 0


# --- What may leave the process -----------------------------------------------------------------


def test_scrub_drops_personal_attributes_and_cleans_values() -> None:
    cleaned = scrub(
        {
            "displayName": NAME,
            "member.phone": PHONE,
            "body": "notes",
            "http.response.status_code": 200,
            "url.full": "https://st.blob.core.windows.net/uploads/a.jpg?sv=2024&sig=abc%3D",
            "detail": f"call {PHONE} or 07700 900987, mail a.b@example.org",
            "authorization": "Bearer eyJhbGciOi.eyJzdWIiOi.sig",
            "note": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc",
        }
    )
    assert cleaned == {
        "http.response.status_code": 200,
        "url.full": "https://st.blob.core.windows.net/uploads/a.jpg",
        "detail": "call REDACTED or REDACTED, mail REDACTED",
    }


def test_scrub_text_blanks_tokens_and_signatures_but_keeps_ids() -> None:
    token = "eyJhbGciOiJSUzI1NiJ9.eyJvaWQiOiIxMjMifQ.c2lnbmF0dXJl"
    assert scrub_text(f"token {token} end") == "token REDACTED end"
    assert scrub_text("a?sig=abc&se=1") == "a?sig=REDACTED&se=1"
    family = "7d3f5800-35b1-4c75-85d6-d8fa293da3c5"
    assert scrub_text(f"/families/{family}/notes took 1234567890 us") == (
        f"/families/{family}/notes took 1234567890 us"
    )


def test_log_records_carry_the_invocation_fields_and_no_exception_message() -> None:
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(ScrubbedLogs([SimpleLogRecordProcessor(exporter)]))
    logger = logging.getLogger("familystory.test_telemetry")
    handler = log_handler(provider)
    logger.addHandler(handler)
    try:
        with telemetry.invocation("notes_get", "inv-5", "http") as run:
            run.set(telemetry.FAMILY_ID, "fam-1")
            try:
                raise KeyError(NAME)
            except KeyError:
                logger.exception("failed for %s", PHONE, extra={"displayName": NAME, "n": 3})
    finally:
        logger.removeHandler(handler)
    [exported] = exporter.get_finished_logs()
    record = exported.log_record
    assert record.body == "failed for REDACTED"
    attributes = dict(record.attributes or {})
    assert attributes["faas.invocation_id"] == "inv-5"
    assert attributes["familystory.function"] == "notes_get"
    assert attributes["familystory.family_id"] == "fam-1"
    assert attributes["n"] == 3
    assert attributes["exception.type"] == "KeyError"
    assert attributes["exception.message"] == "KeyError"
    assert "displayName" not in attributes
    assert NAME not in json.dumps(attributes, default=str)


def test_the_poison_queue_warning_counts_dequeues_as_the_host_does() -> None:
    from functions.media import POISON_AFTER

    host = json.loads((ROOT / "host.json").read_text())
    assert host["extensions"]["queues"]["maxDequeueCount"] == POISON_AFTER
    assert host["telemetryMode"] == "OpenTelemetry"


def test_an_escaping_error_is_logged_once_with_the_function_for_the_failure_alert(
    spans: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    @traced("datasource")
    def media_process_upload(message: object, context: object = None) -> None:
        raise OSError("disk")

    with (
        caplog.at_level(logging.ERROR, "familystory.telemetry"),
        pytest.raises(OSError, match="disk"),
    ):
        media_process_upload(message=None)
    [record] = [r for r in caplog.records if r.name == "familystory.telemetry"]
    assert record.getMessage() == "media_process_upload failed"
    assert record.exc_info is not None
    assert telemetry.current_fields() == {}
