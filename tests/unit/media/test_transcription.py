"""PocketSphinx transcripts of speech synthesised in the test, scored by word error rate."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.media import MemorySink, PocketsphinxEngine, Ready, process_upload
from shared.media.policy import Kind
from tests.unit.media import samples
from tests.unit.media.wer import word_error_rate

MAX_WORD_ERROR_RATE = 0.15
"""Festival's kal voice is recognised almost word for word; 0.15 leaves room for a few slips."""


def transcribe(path: Path, kind: Kind, content_type: str, engine: PocketsphinxEngine) -> Ready:
    result = process_upload(
        path,
        kind=kind,
        content_type=content_type,
        sink=MemorySink(),
        name_prefix="f/m/1",
        engine=engine,
    )
    assert isinstance(result, Ready), result
    return result


def test_word_error_rate_counts_substitutions_insertions_and_deletions() -> None:
    assert word_error_rate("the cat sat", "the cat sat") == 0
    assert word_error_rate("the cat sat", "the dog sat") == pytest.approx(1 / 3)
    assert word_error_rate("the cat sat", "the cat sat down") == pytest.approx(1 / 3)
    assert word_error_rate("the cat sat", "cat") == pytest.approx(2 / 3)
    assert word_error_rate("The cat, sat.", "the CAT sat") == 0


def test_speech_is_transcribed_as_a_timed_draft(speech: Path, engine: PocketsphinxEngine) -> None:
    result = transcribe(speech, "audio", "audio/wav", engine)

    transcript = result.transcript
    assert transcript is not None
    assert (transcript.status, transcript.engine) == ("draft", "pocketsphinx")
    assert word_error_rate(samples.SPEECH_TEXT, transcript.text) < MAX_WORD_ERROR_RATE
    assert len(transcript.segments) >= 2
    assert " ".join(s.text for s in transcript.segments) == transcript.text
    starts = [s.start for s in transcript.segments]
    assert starts == sorted(starts)
    assert all(
        0 <= s.start < s.end <= (result.duration_seconds or 0) + 0.5 for s in transcript.segments
    )
    assert "social worker" in transcript.segments[0].text


def test_speech_in_a_video_is_transcribed(
    tmp_path: Path, speech: Path, engine: PocketsphinxEngine
) -> None:
    video = samples.synthetic_video(tmp_path / "visit.mp4", seconds=11, audio=speech)
    result = transcribe(video, "video", "video/mp4", engine)
    assert result.transcript is not None
    assert result.transcript.status == "draft"
    assert word_error_rate(samples.SPEECH_TEXT, result.transcript.text) < MAX_WORD_ERROR_RATE


def test_silence_gives_an_empty_draft(tmp_path: Path, engine: PocketsphinxEngine) -> None:
    silence = tmp_path / "silence.ogg"
    samples.ffmpeg("-f", "lavfi", "-i", "anullsrc=d=3", "-c:a", "libvorbis", str(silence))
    result = transcribe(silence, "audio", "audio/ogg", engine)
    assert result.transcript is not None
    assert (result.transcript.status, result.transcript.text) == ("draft", "")
    assert result.transcript.segments == ()


def test_video_without_sound_has_no_transcript(tmp_path: Path, engine: PocketsphinxEngine) -> None:
    silent = tmp_path / "silent.mp4"
    samples.ffmpeg("-f", "lavfi", "-i", "testsrc=d=1:s=64x48", "-c:v", "libx264", str(silent))
    assert transcribe(silent, "video", "video/mp4", engine).transcript is None
