"""Video and audio through process_upload with the real ffmpeg binary."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from shared.media import Ffmpeg, MediaOptions, MemorySink, Ready, Rejected, process_upload
from shared.media.policy import Kind, Role
from tests.unit.media import samples

SECRETS = (b"Home Street", b"51.5034", b"secret comment", b"PhoneMaker")


def process(
    path: Path,
    kind: Kind,
    content_type: str,
    sink: MemorySink,
    options: MediaOptions | None = None,
) -> Ready | Rejected:
    return process_upload(
        path, kind=kind, content_type=content_type, sink=sink, name_prefix="f/m/1", options=options
    )


def probe(data: bytes, tmp_path: Path, family: str) -> str:
    copy = tmp_path / "probe.bin"
    copy.write_bytes(data)
    return Ffmpeg().run("-loglevel", "info", *Ffmpeg().input_args(copy, family), check=False)


def test_video_produces_a_poster_and_thumbnails_and_a_clean_copy(
    tmp_path: Path, sink: MemorySink
) -> None:
    source = samples.synthetic_video(tmp_path / "visit.mp4", seconds=3, size="640x480")
    assert b"Home Street" in source.read_bytes()

    result = process(source, "video", "video/mp4", sink)

    assert isinstance(result, Ready)
    assert [d.role for d in result.derivatives] == ["video", "poster", "large", "small"]
    assert (result.width, result.height) == (640, 480)
    assert result.duration_seconds == pytest.approx(3.0, abs=0.1)
    expected: tuple[tuple[Role, tuple[int, int]], ...] = (
        ("poster", (640, 480)),
        ("large", (640, 480)),
        ("small", (320, 240)),
    )
    for role, size in expected:
        derivative = result.derivative(role)
        image = Image.open(io.BytesIO(sink.blobs[derivative.name].data))
        assert (image.format, image.size) == ("JPEG", size)
        assert (derivative.width, derivative.height) == size
        assert len(image.getexif()) == 0
    video = sink.blobs[result.derivative("video").name]
    assert video.content_type == "video/mp4"
    assert not [secret for secret in SECRETS if secret in video.data]
    description = probe(video.data, tmp_path, "isobmff")
    assert "Video: h264" in description
    assert "Audio: aac" in description
    assert "title" not in description
    assert "encoder" not in description
    assert "location" not in description


def test_rotated_phone_video_gets_an_upright_poster(tmp_path: Path, sink: MemorySink) -> None:
    plain = samples.synthetic_video(tmp_path / "plain.mp4", seconds=1, size="320x240")
    rotated = tmp_path / "rotated.mp4"
    samples.ffmpeg("-display_rotation", "90", "-i", str(plain), "-c", "copy", str(rotated))

    result = process(rotated, "video", "video/mp4", sink)

    assert isinstance(result, Ready)
    assert (result.width, result.height) == (240, 320)
    assert (result.derivative("poster").width, result.derivative("poster").height) == (240, 320)
    assert "rotation of" in probe(sink.blobs["f/m/1/video.mp4"].data, tmp_path, "isobmff")


@pytest.mark.parametrize(
    ("name", "content_type"), [("v.mov", "video/quicktime"), ("v.webm", "video/webm")]
)
def test_quicktime_and_webm_videos_are_accepted(
    tmp_path: Path, sink: MemorySink, name: str, content_type: str
) -> None:
    source = samples.synthetic_video(tmp_path / name, seconds=1)
    result = process(source, "video", content_type, sink)
    assert isinstance(result, Ready), result
    served = result.derivative("video")
    assert served.name.endswith(Path(name).suffix)
    assert not [secret for secret in SECRETS if secret in sink.blobs[served.name].data]


@pytest.mark.parametrize(
    ("name", "content_type", "codec"),
    [
        ("a.mp3", "audio/mpeg", ["-c:a", "libmp3lame"]),
        ("a.m4a", "audio/mp4", ["-c:a", "aac"]),
        ("a.ogg", "audio/ogg", ["-c:a", "libvorbis"]),
        ("a.webm", "audio/webm", ["-c:a", "libopus"]),
        ("a.wav", "audio/wav", ["-c:a", "pcm_s16le"]),
    ],
)
def test_audio_formats_are_served_without_their_tags(
    tmp_path: Path, sink: MemorySink, name: str, content_type: str, codec: list[str]
) -> None:
    source = tmp_path / name
    samples.ffmpeg(
        "-f", "lavfi", "-i", "sine=f=300:d=1",
        "-metadata", "title=Visit at 12 Home Street", "-metadata", "comment=secret comment",
        *codec, str(source),
    )  # fmt: skip
    assert b"Home Street" in source.read_bytes()

    result = process(source, "audio", content_type, sink)

    assert isinstance(result, Ready), result
    assert [d.role for d in result.derivatives] == ["audio"]
    served = sink.blobs[result.derivatives[0].name]
    assert served.content_type == content_type
    assert not [secret for secret in SECRETS if secret in served.data]
    assert result.duration_seconds == pytest.approx(1.0, abs=0.1)


def test_mp3_cover_picture_and_id3_tags_are_dropped(tmp_path: Path, sink: MemorySink) -> None:
    cover = tmp_path / "cover.jpg"
    samples.two_halves((64, 64)).save(cover, exif=samples.exif_with_gps(1))
    source = tmp_path / "song.mp3"
    samples.ffmpeg(
        "-f", "lavfi", "-i", "sine=d=1", "-i", str(cover), "-map", "0", "-map", "1",
        "-c:a", "libmp3lame", "-c:v", "copy", "-disposition:v", "attached_pic",
        "-metadata", "title=Visit at 12 Home Street", str(source),
    )  # fmt: skip

    result = process(source, "audio", "audio/mpeg", sink)

    assert isinstance(result, Ready), result
    served = sink.blobs[result.derivatives[0].name].data
    assert b"ID3" not in served[:3]
    assert b"Exif" not in served
    assert b"PhoneMaker" not in served


def test_audio_only_file_declared_as_video_is_rejected(tmp_path: Path, sink: MemorySink) -> None:
    source = tmp_path / "sound.mp4"
    samples.ffmpeg("-f", "lavfi", "-i", "sine=d=1", "-c:a", "aac", str(source))
    result = process(source, "video", "video/mp4", sink)
    assert isinstance(result, Rejected)
    assert result.code == "no-video-stream"
    assert sink.blobs == {}


def test_audio_upload_with_pictures_is_served_as_sound_only(
    tmp_path: Path, sink: MemorySink
) -> None:
    source = samples.synthetic_video(tmp_path / "clip.mp4", seconds=1)
    result = process(source, "audio", "audio/mp4", sink)
    assert isinstance(result, Ready)
    served = sink.blobs[result.derivative("audio").name]
    description = probe(served.data, tmp_path, "isobmff")
    assert "Audio:" in description
    assert "Video:" not in description


def test_truncated_video_is_rejected(tmp_path: Path, sink: MemorySink) -> None:
    whole = samples.synthetic_video(tmp_path / "whole.mp4", seconds=2).read_bytes()
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(whole[: len(whole) // 2])

    result = process(truncated, "video", "video/mp4", sink)

    assert isinstance(result, Rejected)
    assert result.code == "undecodable"
    assert "damaged or incomplete" in result.reason


def test_video_header_followed_by_noise_is_rejected(tmp_path: Path, sink: MemorySink) -> None:
    noise = tmp_path / "noise.mp4"
    noise.write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(range(256)) * 64)
    result = process(noise, "video", "video/mp4", sink)
    assert isinstance(result, Rejected)
    assert result.code == "undecodable"


def test_matroska_declared_as_webm_is_rejected(tmp_path: Path, sink: MemorySink) -> None:
    source = tmp_path / "clip.mkv"
    samples.ffmpeg("-f", "lavfi", "-i", "testsrc=d=1:s=64x48", "-c:v", "ffv1", str(source))
    result = process(source, "video", "video/webm", sink)
    assert isinstance(result, Rejected)
    assert result.code == "unrecognised-content"


def test_ffmpeg_running_out_of_time_rejects_the_upload(tmp_path: Path, sink: MemorySink) -> None:
    source = samples.synthetic_video(tmp_path / "slow.mp4", seconds=1)
    result = process(source, "video", "video/mp4", sink, MediaOptions(ffmpeg_timeout_seconds=0.001))
    assert isinstance(result, Rejected)
    assert result.code == "processing-timeout"
