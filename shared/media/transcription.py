"""Speech to text: one interface, two engines (Azure AI Speech in Azure, PocketSphinx locally).

An engine takes the uploaded recording (audio or video, any accepted container) and returns the
recognised speech with timed segments. It converts the recording itself, because each engine
wants a different input: PocketSphinx raw 16 kHz mono PCM, Azure a small compressed file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class SpeechSegment:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class RecognisedSpeech:
    text: str
    segments: tuple[SpeechSegment, ...] = field(default_factory=tuple)
    language: str | None = None


class TranscriptionEngine(Protocol):
    """Transcribes a recording. Raises ``TranscriptionError`` when it cannot."""

    @property
    def name(self) -> str: ...

    def transcribe(self, path: Path, family: str, *, work_dir: Path) -> RecognisedSpeech: ...


def join_segments(segments: tuple[SpeechSegment, ...] | list[SpeechSegment]) -> str:
    return " ".join(segment.text for segment in segments if segment.text).strip()


def seconds(value: float) -> float:
    """Times rounded to the millisecond, so the same recording gives the same transcript."""
    return round(value, 3)
