"""Speech to text: one interface, two engines (Azure AI Speech in Azure, PocketSphinx locally).

An engine takes the uploaded recording (audio or video, any accepted container) and returns the
recognised speech with timed segments. It converts the recording itself, because each engine
wants a different input: PocketSphinx raw 16 kHz mono PCM, Azure a small compressed file.
"""

from __future__ import annotations

from shared.ports.media import RecognisedSpeech, SpeechSegment, TranscriptionEngine

__all__ = ["RecognisedSpeech", "SpeechSegment", "TranscriptionEngine", "join_segments", "seconds"]


def join_segments(segments: tuple[SpeechSegment, ...] | list[SpeechSegment]) -> str:
    return " ".join(segment.text for segment in segments if segment.text).strip()


def seconds(value: float) -> float:
    """Times rounded to the millisecond, so the same recording gives the same transcript."""
    return round(value, 3)
