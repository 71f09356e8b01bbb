"""process_upload's contract: idempotent, never raises on bad input, nothing left on rejection."""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from shared.media import (
    ALLOWED_CONTENT_TYPES,
    PROCESSING_RESULT,
    DirectorySink,
    MediaOptions,
    MemorySink,
    PocketsphinxEngine,
    Ready,
    RecognisedSpeech,
    Rejected,
    TranscriptionError,
    process_upload,
)
from shared.media.policy import Kind
from tests.unit.media import samples

ROOT = Path(__file__).resolve().parents[3]
HEAVY_MODULES = ("PIL", "pillow_heif", "imageio_ffmpeg", "pocketsphinx", "azure.identity")


class CountingReader:
    """A stream that records how much of it was read."""

    def __init__(self, data: bytes) -> None:
        self.stream = io.BytesIO(data)
        self.bytes_read = 0

    def read(self, size: int, /) -> bytes:
        chunk = self.stream.read(size)
        self.bytes_read += len(chunk)
        return chunk


class FailingEngine:
    name = "failing"

    def __init__(self, error: Exception) -> None:
        self.error = error

    def transcribe(self, path: Path, family: str, *, work_dir: Path) -> RecognisedSpeech:
        raise self.error


def run(
    source: Path | CountingReader, kind: Kind, content_type: str, sink: MemorySink, **kw: object
) -> Ready | Rejected:
    return process_upload(
        source,
        kind=kind,
        content_type=content_type,
        sink=sink,
        name_prefix="fam/med/3",
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def short_speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("short-speech")
    return samples.speech_wav(folder / "short.wav", "We agreed to meet again next week.")


def test_processing_a_photo_twice_gives_identical_results(tmp_path: Path) -> None:
    source = samples.jpeg_with_gps(tmp_path / "photo.jpg")
    first, second = MemorySink(), MemorySink()
    assert run(source, "photo", "image/jpeg", first) == run(source, "photo", "image/jpeg", second)
    assert first.blobs == second.blobs
    assert sorted(first.blobs) == [
        "fam/med/3/large.jpg",
        "fam/med/3/photo.jpg",
        "fam/med/3/small.jpg",
    ]


def test_processing_a_video_with_speech_twice_gives_identical_results(
    tmp_path: Path, short_speech: Path, engine: PocketsphinxEngine
) -> None:
    source = samples.synthetic_video(tmp_path / "visit.webm", seconds=4, audio=short_speech)
    first, second = MemorySink(), MemorySink()

    one = run(source, "video", "video/webm", first, engine=engine)
    two = run(source, "video", "video/webm", second, engine=engine)

    assert isinstance(one, Ready)
    assert one.transcript is not None
    assert one.transcript.status == "draft"
    assert one.transcript.text
    assert one == two
    assert first.blobs == second.blobs


def test_a_stream_gives_the_same_result_as_a_file(tmp_path: Path) -> None:
    source = samples.jpeg_with_gps(tmp_path / "photo.jpg")
    from_file, from_stream = MemorySink(), MemorySink()
    by_path = run(source, "photo", "image/jpeg", from_file)
    by_stream = run(CountingReader(source.read_bytes()), "photo", "image/jpeg", from_stream)
    assert by_path == by_stream
    assert from_file.blobs == from_stream.blobs


def test_an_oversized_stream_is_rejected_without_reading_it_all(sink: MemorySink) -> None:
    reader = CountingReader(b"\xff\xd8\xff" + bytes(30 * 1024 * 1024))
    result = run(reader, "photo", "image/jpeg", sink)
    assert isinstance(result, Rejected)
    assert result.code == "too-large"
    assert result.reason == "The file is over 25 MiB; photos can be at most 25 MiB."
    assert reader.bytes_read <= 26 * 1024 * 1024


def test_an_oversized_file_is_rejected_before_it_is_read(tmp_path: Path, sink: MemorySink) -> None:
    big = tmp_path / "big.wav"
    with big.open("wb") as output:
        output.truncate(3 * 1024 * 1024)
    result = run(
        big, "audio", "audio/wav", sink, options=MediaOptions(audio_max_bytes=2 * 1024 * 1024)
    )
    assert isinstance(result, Rejected)
    assert result.reason == "The file is 3 MiB; audio recordings can be at most 2 MiB."


def test_an_empty_file_is_rejected(tmp_path: Path, sink: MemorySink) -> None:
    empty = tmp_path / "empty.jpg"
    empty.touch()
    result = run(empty, "photo", "image/jpeg", sink)
    assert isinstance(result, Rejected)
    assert result.code == "empty"


@pytest.mark.parametrize(
    ("kind", "content_type"),
    sorted(
        (kind, content_type)
        for kind, types in ALLOWED_CONTENT_TYPES.items()
        for content_type in types
    ),
)
def test_noise_behind_every_accepted_signature_is_rejected_not_raised(
    tmp_path: Path, kind: Kind, content_type: str
) -> None:
    signatures = {
        "image/jpeg": b"\xff\xd8\xff\xe1",
        "image/png": b"\x89PNG\r\n\x1a\n",
        "image/webp": b"RIFF\x00\x10\x00\x00WEBPVP8 ",
        "image/heic": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
        "video/mp4": b"\x00\x00\x00\x14ftypisom\x00\x00\x02\x00isom",
        "video/quicktime": b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ",
        "audio/mp4": b"\x00\x00\x00\x14ftypM4A \x00\x00\x02\x00M4A ",
        "video/webm": b"\x1a\x45\xdf\xa3\x88\x42\x82\x84webm",
        "audio/webm": b"\x1a\x45\xdf\xa3\x88\x42\x82\x84webm",
        "audio/ogg": b"OggS\x00\x02",
        "audio/wav": b"RIFF\x00\x10\x00\x00WAVEfmt ",
        "audio/mpeg": b"\xff\xfb\x90\x64",
    }
    noisy = tmp_path / "noise.bin"
    noisy.write_bytes(signatures[content_type] + random.Random(content_type).randbytes(64 * 1024))
    sink = MemorySink()
    result = run(noisy, kind, content_type, sink)
    assert isinstance(result, Rejected), result
    assert result.code == "undecodable"
    assert sink.blobs == {}


def test_a_failing_engine_leaves_the_recording_ready(tmp_path: Path, sink: MemorySink) -> None:
    source = samples.synthetic_video(tmp_path / "clip.mp4", seconds=1)
    outage = run(
        source,
        "video",
        "video/mp4",
        sink,
        engine=FailingEngine(TranscriptionError("down", transient=True)),
    )
    bug = run(source, "video", "video/mp4", sink, engine=FailingEngine(RuntimeError("bug")))

    assert isinstance(outage, Ready)
    assert outage.transcript is not None
    assert (outage.transcript.status, outage.transcript.retryable) == ("failed", True)
    assert isinstance(bug, Ready)
    assert bug.transcript is not None
    assert (bug.transcript.status, bug.transcript.retryable) == ("failed", False)


def test_results_serialise_in_camel_case_and_read_back(tmp_path: Path, sink: MemorySink) -> None:
    result = run(samples.jpeg_with_gps(tmp_path / "p.jpg"), "photo", "image/jpeg", sink)
    wire = result.model_dump(mode="json", by_alias=True)
    assert wire["status"] == "ready"
    assert {"contentType", "sizeBytes", "derivatives"} <= set(wire)
    assert PROCESSING_RESULT.validate_python(json.loads(json.dumps(wire))) == result
    rejected = Rejected(reason="r", code="c").model_dump(by_alias=True)
    assert isinstance(PROCESSING_RESULT.validate_python(rejected), Rejected)


def test_directory_sink_writes_files_and_refuses_to_escape(tmp_path: Path) -> None:
    sink = DirectorySink(tmp_path / "out")
    result = process_upload(
        samples.jpeg_with_gps(tmp_path / "p.jpg"),
        kind="photo",
        content_type="image/jpeg",
        sink=sink,
        name_prefix="a/b",
    )
    assert isinstance(result, Ready)
    for derivative in result.derivatives:
        written = tmp_path / "out" / derivative.name
        assert written.stat().st_size == derivative.size_bytes
        assert sink.content_types[derivative.name] == "image/jpeg"
    with pytest.raises(ValueError, match="outside"):
        sink.write("../escape.jpg", "image/jpeg", io.BytesIO(b"x"), 1)


def test_importing_the_package_loads_no_heavy_library() -> None:
    script = (
        "import sys, shared.media; "
        f"print([m for m in sys.modules if m.startswith({HEAVY_MODULES!r})])"
    )
    child = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert child.stdout.strip() == "[]"
