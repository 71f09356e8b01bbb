"""PocketSphinx: an offline engine whose model ships in its package; the local and test default.

The recording is converted by ffmpeg to raw 16 kHz mono 16-bit PCM in a temporary file, then
read frame by frame: PocketSphinx's voice-activity endpointer splits it into utterances, each
decoded as it streams in, so memory does not grow with the length of the recording.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from shared.media.errors import TranscriptionError
from shared.media.ffmpeg import Ffmpeg, FfmpegError
from shared.media.transcription import RecognisedSpeech, SpeechSegment, join_segments, seconds

SAMPLE_RATE = 16000


class PocketsphinxEngine:
    """``timeout_seconds`` bounds the recognition itself (ffmpeg has its own timeout)."""

    name = "pocketsphinx"

    def __init__(
        self,
        ffmpeg: Ffmpeg | None = None,
        *,
        max_seconds: float = 4 * 3600.0,
        timeout_seconds: float = 3600.0,
    ) -> None:
        self.ffmpeg = ffmpeg or Ffmpeg()
        self.max_seconds = max_seconds
        self.timeout_seconds = timeout_seconds

    def transcribe(self, path: Path, family: str, *, work_dir: Path) -> RecognisedSpeech:
        pcm = work_dir / "speech-16k.raw"
        try:
            self.ffmpeg.run(
                "-loglevel", "error",
                *self.ffmpeg.input_args(path, family),
                "-map", "0:a:0", "-t", f"{self.max_seconds:.0f}",
                "-ac", "1", "-ar", str(SAMPLE_RATE), "-c:a", "pcm_s16le", "-f", "s16le",
                "-y", f"file:{pcm}",
            )  # fmt: skip
        except FfmpegError as error:
            raise TranscriptionError(
                "The recording's sound could not be decoded.", transient=False
            ) from error
        try:
            return RecognisedSpeech(*self._recognise(pcm), language="en-US")
        finally:
            pcm.unlink(missing_ok=True)

    def _recognise(self, pcm: Path) -> tuple[str, tuple[SpeechSegment, ...]]:
        from pocketsphinx import Decoder, Endpointer  # type: ignore[import-untyped]

        decoder = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")
        endpointer = Endpointer(sample_rate=SAMPLE_RATE)
        deadline = time.monotonic() + self.timeout_seconds
        segments: list[SpeechSegment] = []
        in_utterance = False
        start = 0.0
        with pcm.open("rb") as stream:
            while True:
                frame = stream.read(endpointer.frame_bytes)
                ended = len(frame) < endpointer.frame_bytes
                if ended:  # the endpointer cannot end on an empty frame: give it one sample
                    speech = endpointer.end_stream(frame or b"\x00\x00")
                else:
                    speech = endpointer.process(frame)
                if speech is not None:
                    if not in_utterance:
                        decoder.start_utt()
                        in_utterance, start = True, endpointer.speech_start
                    if speech:
                        decoder.process_raw(speech)
                    if not endpointer.in_speech:
                        decoder.end_utt()
                        in_utterance = False
                        segments.append(_segment(decoder, start, endpointer.speech_end))
                if ended:
                    break
                if time.monotonic() > deadline:
                    raise TranscriptionError("Transcription took too long.", transient=False)
        if in_utterance:
            decoder.end_utt()
            segments.append(_segment(decoder, start, endpointer.speech_end))
        spoken = tuple(segment for segment in segments if segment.text)
        return join_segments(spoken), spoken


def _segment(decoder: Any, start: float, end: float) -> SpeechSegment:
    hypothesis = decoder.hyp()
    text = hypothesis.hypstr.strip() if hypothesis is not None else ""
    return SpeechSegment(seconds(start), seconds(max(start, end)), text)
