"""The Azure AI Speech engine against a local HTTPS server that speaks fast transcription.

Azure cannot be reached from tests, so the server checks what the real service would be sent
(method, path, api-version, bearer token, multipart parts) and answers as the service does.
"""

from __future__ import annotations

import email
import email.policy
import json
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AccessToken

from local.certs import ensure_dev_certificate
from shared.adapters.azure_speech import SCOPE, AzureSpeechEngine, parse_transcription
from shared.media import MemorySink, Ready, TranscriptionError, process_upload
from tests.unit.media import samples

ANSWER = {
    "durationMilliseconds": 2000,
    "combinedPhrases": [{"text": "Hello there. See you next week."}],
    "phrases": [
        {
            "offsetMilliseconds": 1200,
            "durationMilliseconds": 700,
            "text": "See you next week.",
            "locale": "en-GB",
            "confidence": 0.91,
        },
        {
            "offsetMilliseconds": 80,
            "durationMilliseconds": 640,
            "text": "Hello there.",
            "locale": "en-GB",
            "confidence": 0.95,
        },
    ],
}


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    parts: dict[str, tuple[str | None, str | None, bytes]]


@dataclass
class SpeechServer:
    url: str
    certificate: Path
    answers: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)


class FakeCredential:
    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken("test-token", int(time.time()) + 3600)


def multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, str | None, bytes]]:
    message = email.message_from_bytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body, policy=email.policy.HTTP
    )
    parts: dict[str, tuple[str | None, str | None, bytes]] = {}
    for part in message.walk():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            parts[name] = (part.get_filename(), part.get_content_type(), payload)
    return parts


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SpeechServer]:
    key, certificate = ensure_dev_certificate(tmp_path / "certs")
    state = SpeechServer(url="", certificate=certificate)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append(
                Received(
                    "POST",
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    multipart(self.headers["Content-Type"], body),
                )
            )
            status, answer = state.answers.pop(0) if state.answers else (200, ANSWER)
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    state.url = f"https://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture(scope="module")
def sound(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("azure") / "sound.wav"
    samples.ffmpeg("-f", "lavfi", "-i", "sine=f=300:d=2", "-metadata", "title=Home", str(path))
    return path


def engine_for(
    server: SpeechServer, credential: FakeCredential, **options: Any
) -> AzureSpeechEngine:
    return AzureSpeechEngine(
        server.url + "/",
        credential=credential,
        connection_verify=str(server.certificate),
        retry_backoff_seconds=0.01,
        **options,
    )


def test_request_is_an_entra_signed_multipart_post_of_opus_audio(
    server: SpeechServer, sound: Path, tmp_path: Path
) -> None:
    credential = FakeCredential()
    work_dir = tmp_path / "work"
    work_dir.mkdir()
    speech = engine_for(server, credential).transcribe(sound, "wav", work_dir=work_dir)

    [request] = server.received
    assert request.path == "/speechtotext/transcriptions:transcribe?api-version=2024-11-15"
    assert request.headers["authorization"] == "Bearer test-token"
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert credential.scopes == [(SCOPE,)]
    filename, content_type, audio = request.parts["audio"]
    assert (filename, content_type) == ("audio.ogg", "audio/ogg")
    assert audio.startswith(b"OggS")
    assert b"OpusHead" in audio
    assert b"Home" not in audio
    assert json.loads(request.parts["definition"][2]) == {"locales": ["en-GB"]}
    assert speech.text == "Hello there. See you next week."
    assert [(s.start, s.end, s.text) for s in speech.segments] == [
        (0.08, 0.72, "Hello there."),
        (1.2, 1.9, "See you next week."),
    ]
    assert speech.language == "en-GB"
    assert list(work_dir.iterdir()) == []


def test_a_transcription_is_a_dependency_span_when_tracing_is_on(
    server: SpeechServer, sound: Path, tmp_path: Path
) -> None:
    from azure.core.settings import settings
    from azure.core.tracing.ext.opentelemetry_span import OpenTelemetrySpan
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):  # one per process: reuse one a test set
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    settings.tracing_implementation = OpenTelemetrySpan
    try:
        engine_for(server, FakeCredential()).transcribe(sound, "wav", work_dir=tmp_path)
    finally:
        settings.tracing_implementation = None
        spans = exporter.get_finished_spans()
        exporter.shutdown()  # exports nothing more
    [call] = [span for span in spans if span.kind is trace.SpanKind.CLIENT]
    attributes = dict(call.attributes or {})
    assert attributes["http.request.method"] == "POST"
    assert attributes["http.response.status_code"] == 200
    assert str(attributes["url.full"]).startswith(server.url + "/speechtotext/transcriptions")


def test_throttling_is_retried_with_the_same_audio(
    server: SpeechServer, sound: Path, tmp_path: Path
) -> None:
    server.answers = [(429, {"error": "slow down"}), (503, {"error": "busy"})]
    speech = engine_for(server, FakeCredential()).transcribe(sound, "wav", work_dir=tmp_path)
    assert speech.text == "Hello there. See you next week."
    assert len(server.received) == 3
    audio = {request.parts["audio"][2] for request in server.received}
    assert len(audio) == 1
    assert next(iter(audio)).startswith(b"OggS")


def test_a_lasting_outage_is_a_transient_failure(
    server: SpeechServer, sound: Path, tmp_path: Path
) -> None:
    server.answers = [(503, {"error": "busy"})] * 3
    engine = engine_for(server, FakeCredential(), retry_total=2)
    with pytest.raises(TranscriptionError) as caught:
        engine.transcribe(sound, "wav", work_dir=tmp_path)
    assert caught.value.transient
    assert len(server.received) == 3


def test_a_refused_recording_fails_the_transcript_not_the_upload(
    server: SpeechServer, sound: Path
) -> None:
    server.answers = [(400, {"code": "InvalidAudioFormat"})]
    result = process_upload(
        sound,
        kind="audio",
        content_type="audio/wav",
        sink=MemorySink(),
        name_prefix="f/m/1",
        engine=engine_for(server, FakeCredential()),
    )
    assert isinstance(result, Ready)
    assert result.transcript is not None
    assert result.transcript.status == "failed"
    assert result.transcript.engine == "azure-speech"
    assert not result.transcript.retryable
    assert result.transcript.failure_reason == "The transcription service answered 400."


def test_the_endpoint_must_be_https() -> None:
    with pytest.raises(ValueError, match="https"):
        AzureSpeechEngine("http://speech.example", credential=FakeCredential())


def test_an_answer_without_combined_phrases_is_joined_from_its_phrases() -> None:
    answer = {"phrases": ANSWER["phrases"]}
    speech = parse_transcription(answer)
    assert speech.text == "Hello there. See you next week."
    assert parse_transcription({}).text == ""
