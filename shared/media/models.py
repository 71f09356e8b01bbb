"""What processing an upload produces: ``Ready`` with its derivatives, or ``Rejected``.

These are camelCase on the wire (``model_dump(by_alias=True)``), ready to be copied onto the
media record.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, TypeAdapter
from pydantic.alias_generators import to_camel

from shared.media.policy import Kind, Role
from shared.models import ApiModel


class MediaModel(ApiModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class Derivative(MediaModel):
    """One sanitised file written to the derivatives container."""

    name: str
    role: Role
    content_type: str
    size_bytes: int
    sha256: str
    width: int | None = None
    height: int | None = None


class TranscriptSegment(MediaModel):
    start: float
    end: float
    text: str


class Transcript(MediaModel):
    """A machine transcript. It starts as a ``draft`` that staff must approve."""

    status: Literal["draft", "failed"]
    engine: str
    language: str | None = None
    text: str = ""
    segments: tuple[TranscriptSegment, ...] = ()
    failure_reason: str | None = None
    retryable: bool = False


class Ready(MediaModel):
    """The upload is safe to serve. ``size_bytes`` and ``sha256`` describe the upload itself;
    ``width`` and ``height`` are those of the served photo, or of the video as it plays."""

    status: Literal["ready"] = "ready"
    kind: Kind
    content_type: str
    size_bytes: int
    sha256: str
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None
    derivatives: tuple[Derivative, ...]
    transcript: Transcript | None = None

    def derivative(self, role: Role) -> Derivative:
        return next(d for d in self.derivatives if d.role == role)


class Rejected(MediaModel):
    status: Literal["rejected"] = "rejected"
    reason: str
    code: str


ProcessingResult = Annotated[Ready | Rejected, Field(discriminator="status")]
PROCESSING_RESULT: TypeAdapter[Ready | Rejected] = TypeAdapter(ProcessingResult)
