"""Process one upload: check it, make its sanitised derivatives and transcript, publish them.

``process_upload`` is what the blob-triggered function calls. Its contract:

- Bad input never raises: whatever the bytes are, the answer is ``Rejected`` with a reason a
  person understands (a decoder failing in an unforeseen way included; that is logged).
- It raises only when the caller's own I/O fails: reading ``source``, or writing to ``sink``.
  Those are worth retrying; the caller counts attempts and ends with ``Rejected`` after a few.
- Nothing reaches the sink unless processing succeeded, and derivatives are written last, so a
  rejected upload leaves nothing behind.
- It is deterministic: the same bytes give the same derivative names (``name_prefix`` plus the
  role) and the same derivative bytes, so running it twice on one blob changes nothing.
- A transcription failure does not reject the recording: the result is ``Ready`` with a
  ``failed`` transcript that says whether trying again later may help.
"""

from __future__ import annotations

import hashlib
import io
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from shared.media.errors import MediaRejectedError, TranscriptionError
from shared.media.ffmpeg import Ffmpeg
from shared.media.models import Derivative, Ready, Rejected, Transcript, TranscriptSegment
from shared.media.photos import render_photo
from shared.media.policy import (
    KIND_NAMES,
    Kind,
    MediaOptions,
    Role,
    human_size,
    normalise_content_type,
)
from shared.media.recordings import (
    SERVED_FORMATS,
    check_audio_decodes,
    probe_recording,
    remux,
    render_stills,
)
from shared.media.sinks import DerivativeSink
from shared.media.sniff import check_declared_type
from shared.media.transcription import TranscriptionEngine
from shared.ports.media import Readable

log = logging.getLogger("familystory.media")

COPY_CHUNK_BYTES = 1024 * 1024
HASH_CHUNK_BYTES = 1024 * 1024
UNEXPECTED_FAILURE = "The file could not be processed: it may be damaged."


@dataclass(frozen=True)
class _Output:
    role: Role
    content_type: str
    extension: str
    width: int | None = None
    height: int | None = None
    data: bytes | None = None
    path: Path | None = None


@dataclass(frozen=True)
class _Processed:
    content_type: str
    outputs: list[_Output]
    width: int | None
    height: int | None
    duration_seconds: float | None
    transcript: Transcript | None


def process_upload(
    source: Path | str | Readable,
    *,
    kind: Kind,
    content_type: str,
    sink: DerivativeSink,
    name_prefix: str,
    options: MediaOptions | None = None,
    engine: TranscriptionEngine | None = None,
    ffmpeg: Ffmpeg | None = None,
    work_dir: Path | None = None,
) -> Ready | Rejected:
    """Process the upload in ``source`` (a file path, or a stream read once, to its end).

    ``engine`` transcribes audio and video; without one there is no transcript.
    ``work_dir`` holds temporary files (a large video is copied there once).
    """
    options = options or MediaOptions()
    ffmpeg = ffmpeg or Ffmpeg(timeout_seconds=options.ffmpeg_timeout_seconds)
    with tempfile.TemporaryDirectory(prefix="familystory-media-", dir=work_dir) as scratch:
        scratch_dir = Path(scratch)
        try:
            path, size, sha256 = _materialise(source, scratch_dir, kind, options)
        except MediaRejectedError as rejection:
            return _rejected(rejection)
        try:
            processed = _process(path, kind, content_type, options, engine, ffmpeg, scratch_dir)
        except MediaRejectedError as rejection:
            return _rejected(rejection)
        except Exception:  # any decoder failure on hostile input is a rejection, logged
            log.exception("media processing failed unexpectedly", extra={"kind": kind})
            return Rejected(reason=UNEXPECTED_FAILURE, code="processing-failed")
        derivatives = _publish(processed.outputs, sink, name_prefix.strip("/"))
    return Ready(
        kind=kind,
        content_type=processed.content_type,
        size_bytes=size,
        sha256=sha256,
        width=processed.width,
        height=processed.height,
        duration_seconds=processed.duration_seconds,
        derivatives=tuple(derivatives),
        transcript=processed.transcript,
    )


def _materialise(
    source: Path | str | Readable, scratch: Path, kind: Kind, options: MediaOptions
) -> tuple[Path, int, str]:
    """The upload as a local file, its size and SHA-256; a stream is copied, up to the limit."""
    limit = options.max_bytes(kind)
    digest = hashlib.sha256()
    if isinstance(source, str | Path):
        path = Path(source).resolve()
        size = path.stat().st_size
        _check_size(kind, size, limit)
        with path.open("rb") as stream:
            while chunk := stream.read(HASH_CHUNK_BYTES):
                digest.update(chunk)
        return path, size, digest.hexdigest()
    path = scratch / "upload"
    size = 0
    with path.open("wb") as output:
        while chunk := source.read(COPY_CHUNK_BYTES):
            size += len(chunk)
            _check_size(kind, size, limit, complete=False)
            digest.update(chunk)
            output.write(chunk)
    _check_size(kind, size, limit)
    return path, size, digest.hexdigest()


def _check_size(kind: Kind, size: int, limit: int, *, complete: bool = True) -> None:
    if size > limit:
        shown = human_size(size) if complete else f"over {human_size(limit)}"
        raise MediaRejectedError(
            f"The file is {shown}; {KIND_NAMES[kind].lower()} can be at most {human_size(limit)}.",
            "too-large",
        )
    if complete and size == 0:
        raise MediaRejectedError("The file is empty.", "empty")


def _process(
    path: Path,
    kind: Kind,
    content_type: str,
    options: MediaOptions,
    engine: TranscriptionEngine | None,
    ffmpeg: Ffmpeg,
    scratch: Path,
) -> _Processed:
    family = check_declared_type(kind, content_type, path).key
    declared = normalise_content_type(content_type)
    if kind == "photo":
        renditions = render_photo(path, family, options)
        outputs = [
            _Output(r.role, r.content_type, r.extension, r.width, r.height, data=r.data)
            for r in renditions
        ]
        return _Processed(declared, outputs, outputs[0].width, outputs[0].height, None, None)
    probe = probe_recording(ffmpeg, path, family, kind)
    outputs = []
    width = height = None
    if kind == "video":
        stills = render_stills(ffmpeg, path, family, probe, options, scratch)
        outputs += [
            _Output(r.role, r.content_type, r.extension, r.width, r.height, data=r.data)
            for r in stills
        ]
        video = probe.video
        size = video.display_size if video else None
        width, height = size or (stills[0].width, stills[0].height)
    else:
        check_audio_decodes(ffmpeg, path, family, scratch)
    served = remux(ffmpeg, path, family, kind, declared, scratch)
    outputs.insert(0, _Output(kind, declared, SERVED_FORMATS[declared].extension, path=served))
    transcript = None
    if engine is not None and probe.has_audio:
        transcript = _transcribe(engine, path, family, scratch)
    return _Processed(declared, outputs, width, height, probe.duration_seconds, transcript)


def _transcribe(engine: TranscriptionEngine, path: Path, family: str, scratch: Path) -> Transcript:
    try:
        speech = engine.transcribe(path, family, work_dir=scratch)
    except TranscriptionError as error:
        log.warning("transcription failed", extra={"engine": engine.name, "reason": error.reason})
        return Transcript(
            status="failed",
            engine=engine.name,
            failure_reason=error.reason,
            retryable=error.transient,
        )
    except Exception:  # a transcription bug must not reject a good recording; logged
        log.exception("transcription failed unexpectedly", extra={"engine": engine.name})
        return Transcript(
            status="failed",
            engine=engine.name,
            failure_reason="The transcription failed unexpectedly.",
            retryable=False,
        )
    return Transcript(
        status="draft",
        engine=engine.name,
        language=speech.language,
        text=speech.text,
        segments=tuple(
            TranscriptSegment(start=s.start, end=s.end, text=s.text) for s in speech.segments
        ),
    )


def _publish(outputs: list[_Output], sink: DerivativeSink, prefix: str) -> list[Derivative]:
    derivatives = []
    for output in outputs:
        name = f"{output.role}.{output.extension}"
        name = f"{prefix}/{name}" if prefix else name
        with _opened(output) as (stream, length, sha256):
            sink.write(name, output.content_type, stream, length)
        derivatives.append(
            Derivative(
                name=name,
                role=output.role,
                content_type=output.content_type,
                size_bytes=length,
                sha256=sha256,
                width=output.width,
                height=output.height,
            )
        )
    return derivatives


@contextmanager
def _opened(output: _Output) -> Iterator[tuple[BinaryIO, int, str]]:
    """The output as a stream at its start, with its length and SHA-256."""
    if output.data is not None:
        yield io.BytesIO(output.data), len(output.data), hashlib.sha256(output.data).hexdigest()
        return
    assert output.path is not None
    with output.path.open("rb") as stream:
        digest = hashlib.sha256()
        while chunk := stream.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
        stream.seek(0)
        yield stream, output.path.stat().st_size, digest.hexdigest()


def _rejected(rejection: MediaRejectedError) -> Rejected:
    log.info("media rejected", extra={"code": rejection.code})
    return Rejected(reason=rejection.reason, code=rejection.code)
