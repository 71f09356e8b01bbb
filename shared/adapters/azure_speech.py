"""Azure AI Speech fast transcription (REST, synchronous), signed in with Microsoft Entra ID.

The recording's first audio track is converted to mono Opus in Ogg (about 15 MB an hour, well
inside the service's request limits) and posted as ``multipart/form-data`` with a JSON
``definition``. The token comes from ``DefaultAzureCredential`` (the app's managed identity),
scope ``https://cognitiveservices.azure.com/.default``; the endpoint must be the resource's
custom-domain endpoint, as Entra ID authentication requires. azure-core's pipeline supplies
retries with back-off on throttling and server errors.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.media.errors import TranscriptionError
from shared.media.ffmpeg import Ffmpeg, FfmpegError
from shared.media.transcription import RecognisedSpeech, SpeechSegment, join_segments, seconds

if TYPE_CHECKING:
    from azure.core import PipelineClient
    from azure.core.credentials import TokenCredential
    from azure.core.pipeline.transport import HttpTransport

SCOPE = "https://cognitiveservices.azure.com/.default"
API_VERSION = "2024-11-15"
TRANSCRIBE_PATH = "/speechtotext/transcriptions:transcribe"
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
RETRIED_METHODS = frozenset({"POST"})  # transcribing has no side effects: safe to send again


class AzureSpeechEngine:
    name = "azure-speech"

    def __init__(
        self,
        endpoint: str,
        *,
        locales: tuple[str, ...] = ("en-GB",),
        credential: TokenCredential | None = None,
        managed_identity_client_id: str | None = None,
        ffmpeg: Ffmpeg | None = None,
        max_seconds: float = 2 * 3600.0,
        timeout_seconds: float = 600.0,
        retry_total: int = 3,
        retry_backoff_seconds: float = 2.0,
        connection_verify: bool | str = True,
        transport: HttpTransport[Any, Any] | None = None,
    ) -> None:
        if not endpoint.startswith("https://"):
            raise ValueError("The Azure AI Speech endpoint must be an https:// URL.")
        self.endpoint = endpoint.rstrip("/")
        self.locales = locales
        self.ffmpeg = ffmpeg or Ffmpeg()
        self.max_seconds = max_seconds
        self.timeout_seconds = timeout_seconds
        self.retry_total = retry_total
        self.retry_backoff_seconds = retry_backoff_seconds
        self.connection_verify = connection_verify
        self._credential = credential
        self._client_id = managed_identity_client_id
        self._transport = transport
        self._client: PipelineClient[Any, Any] | None = None

    def transcribe(self, path: Path, family: str, *, work_dir: Path) -> RecognisedSpeech:
        audio = work_dir / "speech.ogg"
        try:
            self.ffmpeg.run(
                "-loglevel", "error",
                *self.ffmpeg.input_args(path, family),
                "-map", "0:a:0", "-t", f"{self.max_seconds:.0f}", "-ac", "1", "-ar", "16000",
                "-c:a", "libopus", "-b:a", "32k", "-application", "voip",
                "-map_metadata", "-1", "-fflags", "+bitexact", "-f", "ogg", "-y", f"file:{audio}",
            )  # fmt: skip
        except FfmpegError as error:
            raise TranscriptionError(
                "The recording's sound could not be decoded.", transient=False
            ) from error
        try:
            with audio.open("rb") as stream:
                return self._post(stream)
        finally:
            audio.unlink(missing_ok=True)

    def _post(self, stream: Any) -> RecognisedSpeech:
        from azure.core.exceptions import AzureError
        from azure.core.rest import HttpRequest

        request = HttpRequest(
            "POST",
            f"{self.endpoint}{TRANSCRIBE_PATH}",
            params={"api-version": API_VERSION},
            files={
                "audio": ("audio.ogg", stream, "audio/ogg"),
                "definition": (
                    None,
                    json.dumps({"locales": list(self.locales)}),
                    "application/json",
                ),
            },
        )
        try:
            response = self.client.send_request(
                request,
                connection_verify=self.connection_verify,
                retry_on_methods=RETRIED_METHODS,
                connection_timeout=30,
                read_timeout=self.timeout_seconds,
            )
            body = response.read()
        except AzureError as error:
            raise TranscriptionError(
                "The transcription service could not be reached.", transient=True
            ) from error
        if response.status_code != 200:
            raise TranscriptionError(
                f"The transcription service answered {response.status_code}.",
                transient=response.status_code in TRANSIENT_STATUSES,
            )
        try:
            return parse_transcription(json.loads(body))
        except (ValueError, TypeError, KeyError) as error:
            raise TranscriptionError(
                "The transcription service sent an answer we could not read.", transient=True
            ) from error

    @property
    def client(self) -> PipelineClient[Any, Any]:
        if self._client is None:
            from azure.core import PipelineClient
            from azure.core.pipeline.policies import (
                BearerTokenCredentialPolicy,
                DistributedTracingPolicy,
                HeadersPolicy,
                RetryPolicy,
                UserAgentPolicy,
            )

            policies = [
                HeadersPolicy({"Accept": "application/json"}),
                UserAgentPolicy("familystory-media"),
                RetryPolicy(
                    retry_total=self.retry_total,
                    retry_backoff_factor=self.retry_backoff_seconds,
                    retry_on_status_codes=sorted(TRANSIENT_STATUSES),
                ),
                BearerTokenCredentialPolicy(self.credential, SCOPE),
                DistributedTracingPolicy(),  # a dependency span per call when tracing is on
            ]
            self._client = PipelineClient(
                base_url=self.endpoint, policies=policies, transport=self._transport
            )
        return self._client

    @property
    def credential(self) -> TokenCredential:
        if self._credential is None:
            from azure.identity import DefaultAzureCredential

            self._credential = DefaultAzureCredential(managed_identity_client_id=self._client_id)
        return self._credential


def parse_transcription(payload: Mapping[str, Any]) -> RecognisedSpeech:
    """Read a fast-transcription answer: phrases with millisecond offsets and durations."""
    segments: list[SpeechSegment] = []
    language: str | None = None
    for phrase in payload.get("phrases") or []:
        offset = float(phrase["offsetMilliseconds"]) / 1000
        duration = float(phrase["durationMilliseconds"]) / 1000
        text = str(phrase.get("text") or "").strip()
        if text:
            segments.append(SpeechSegment(seconds(offset), seconds(offset + duration), text))
        language = language or phrase.get("locale")
    segments.sort(key=lambda segment: (segment.start, segment.end))
    combined = [
        str(item.get("text") or "").strip() for item in payload.get("combinedPhrases") or []
    ]
    text = " ".join(part for part in combined if part) or join_segments(segments)
    return RecognisedSpeech(text=text, segments=tuple(segments), language=language)
