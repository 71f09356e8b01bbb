"""Photos through process_upload: metadata gone, orientation applied, hostile files rejected."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image

from shared.media import MediaOptions, MemorySink, Ready, Rejected, process_upload
from shared.media.errors import UnsafeOutputError
from shared.media.photos import verify_no_metadata
from tests.unit.media import samples

ROOT = Path(__file__).resolve().parents[3]
METADATA_MARKERS = (b"Exif\x00\x00", b"http://ns.adobe.com", b"ICC_PROFILE", samples.COMMENT)


def process_photo(
    path: Path, sink: MemorySink, content_type: str = "image/jpeg", **options: int
) -> Ready | Rejected:
    return process_upload(
        path,
        kind="photo",
        content_type=content_type,
        sink=sink,
        name_prefix="family-1/media-1/v1",
        options=MediaOptions(**options),  # type: ignore[arg-type]
    )


def reopen(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def assert_red_on_top_blue_below(image: Image.Image) -> None:
    rgb = image.convert("RGB")
    top = rgb.getpixel((rgb.width // 2, rgb.height // 8))
    bottom = rgb.getpixel((rgb.width // 2, rgb.height * 7 // 8))
    assert isinstance(top, tuple)
    assert isinstance(bottom, tuple)
    assert (top[0] > 200, top[2] < 60) == (True, True), top
    assert (bottom[2] > 200, bottom[0] < 60) == (True, True), bottom


def test_jpeg_with_gps_is_served_without_any_metadata_and_upright(
    tmp_path: Path, sink: MemorySink
) -> None:
    source = samples.jpeg_with_gps(tmp_path / "gps.jpg", size=(1600, 800), orientation=6)
    with Image.open(source) as original:
        assert original.getexif().get_ifd(0x8825), "the sample must carry GPS"

    result = process_photo(source, sink)

    assert isinstance(result, Ready)
    assert [d.role for d in result.derivatives] == ["photo", "large", "small"]
    assert (result.width, result.height) == (800, 1600)
    for derivative in result.derivatives:
        data = sink.blobs[derivative.name].data
        assert not any(marker in data for marker in METADATA_MARKERS), derivative.role
        image = reopen(data)
        assert image.format == "JPEG"
        assert len(image.getexif()) == 0
        assert set(image.info) <= {"jfif", "jfif_version", "jfif_unit", "jfif_density"}
        assert image.height > image.width
        assert (image.width, image.height) == (derivative.width, derivative.height)
        assert_red_on_top_blue_below(image)
    assert (
        max(result.derivative("large").width or 0, result.derivative("large").height or 0) == 1280
    )
    assert max(result.derivative("small").width or 0, result.derivative("small").height or 0) == 320


@pytest.mark.parametrize("orientation", [3, 8])
def test_other_orientations_are_applied_to_the_pixels(
    tmp_path: Path, sink: MemorySink, orientation: int
) -> None:
    source = samples.jpeg_with_gps(tmp_path / "o.jpg", size=(400, 200), orientation=orientation)
    result = process_photo(source, sink)
    assert isinstance(result, Ready)
    image = reopen(sink.blobs[result.derivative("photo").name].data).convert("RGB")
    if orientation == 3:  # upside down: red ends up on the right
        assert image.size == (400, 200)
        assert image.getpixel((300, 100))[0] > 200  # type: ignore[index]
    else:  # quarter turn anticlockwise: the red left half ends up at the bottom
        assert image.size == (200, 400)
        assert image.getpixel((100, 350))[0] > 200  # type: ignore[index]


def test_heic_is_decoded_oriented_and_stripped(tmp_path: Path, sink: MemorySink) -> None:
    source = samples.heic_with_gps(tmp_path / "photo.heic")
    result = process_photo(source, sink, content_type="image/heic")
    assert isinstance(result, Ready)
    photo = sink.blobs[result.derivative("photo").name]
    assert photo.content_type == "image/jpeg"
    image = reopen(photo.data)
    assert len(image.getexif()) == 0
    assert image.size == (320, 640)
    assert_red_on_top_blue_below(image)


def test_png_with_transparency_keeps_it_and_thumbnails_are_flattened(
    tmp_path: Path, sink: MemorySink
) -> None:
    image = Image.new("RGBA", (300, 200), (0, 0, 255, 0))
    image.paste((255, 0, 0, 255), (0, 0, 150, 200))
    source = tmp_path / "alpha.png"
    image.save(source, exif=samples.exif_with_gps(1), icc_profile=samples.srgb_icc())

    result = process_photo(source, sink, content_type="image/png")

    assert isinstance(result, Ready)
    photo = sink.blobs[result.derivative("photo").name]
    assert photo.content_type == "image/png"
    served = reopen(photo.data)
    assert served.mode == "RGBA"
    assert served.getchannel("A").getpixel((250, 100)) == 0
    assert "exif" not in served.info
    assert "icc_profile" not in served.info
    small = reopen(sink.blobs[result.derivative("small").name].data)
    assert small.mode == "RGB"
    assert small.getpixel((small.width - 5, 5)) == (255, 255, 255)


def test_webp_and_palette_png_are_accepted(tmp_path: Path, sink: MemorySink) -> None:
    webp = tmp_path / "photo.webp"
    samples.two_halves((200, 100)).save(webp, "WEBP", exif=samples.exif_with_gps(1))
    palette = tmp_path / "palette.png"
    samples.two_halves((200, 100)).convert("P").save(palette)

    for path, content_type in ((webp, "image/webp"), (palette, "image/png")):
        result = process_photo(path, sink, content_type=content_type)
        assert isinstance(result, Ready), result
        assert b"Exif" not in sink.blobs[result.derivative("photo").name].data


def test_executable_declared_as_jpeg_is_rejected(tmp_path: Path, sink: MemorySink) -> None:
    executable = tmp_path / "photo.jpg"
    executable.write_bytes(Path(sys.executable).resolve().read_bytes()[:200_000])
    assert executable.read_bytes().startswith(b"\x7fELF")

    result = process_photo(executable, sink)

    assert isinstance(result, Rejected)
    assert result.code == "unrecognised-content"
    assert "program" in result.reason
    assert sink.blobs == {}


def test_jpeg_magic_followed_by_garbage_is_rejected(tmp_path: Path, sink: MemorySink) -> None:
    fake = tmp_path / "fake.jpg"
    fake.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(5000))
    result = process_photo(fake, sink)
    assert isinstance(result, Rejected)
    assert result.code == "undecodable"


def test_truncated_jpeg_is_rejected(tmp_path: Path, sink: MemorySink) -> None:
    whole = samples.jpeg_with_gps(tmp_path / "whole.jpg").read_bytes()
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(whole[: len(whole) * 2 // 3])

    result = process_photo(truncated, sink)

    assert isinstance(result, Rejected)
    assert result.code == "undecodable"
    assert "damaged or incomplete" in result.reason
    assert sink.blobs == {}


def test_decompression_bomb_is_rejected_without_exhausting_memory(bomb: Path) -> None:
    assert bomb.stat().st_size < 1024 * 1024
    script = textwrap.dedent(
        f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (1536 * 2**20, 1536 * 2**20))
        from pathlib import Path
        from shared.media import MemorySink, process_upload
        result = process_upload(Path({str(bomb)!r}), kind="photo", content_type="image/png",
                                sink=MemorySink(), name_prefix="bomb")
        status = Path("/proc/self/status").read_text()  # VmHWM: this program's own peak;
        peak_kib = next(l for l in status.splitlines() if l.startswith("VmHWM:")).split()[1]
        peak_mib = int(peak_kib) / 1024  # ru_maxrss would carry over pytest's, across exec
        print(result.status, getattr(result, "code", ""), int(peak_mib))
        """
    )
    child = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    status, code, peak_mib = child.stdout.split()
    assert (status, code) == ("rejected", "too-many-pixels")
    assert int(peak_mib) < 200


def test_pillow_bomb_warning_is_an_error_even_under_a_higher_own_limit(
    tmp_path: Path, sink: MemorySink
) -> None:
    declared = samples.png_header_only(tmp_path / "big.png", 10_000, 10_000)
    assert Image.MAX_IMAGE_PIXELS is not None
    assert Image.MAX_IMAGE_PIXELS < 10_000**2

    result = process_photo(declared, sink, content_type="image/png", max_pixels=500_000_000)

    assert isinstance(result, Rejected)
    assert result.code == "too-many-pixels"


def test_own_pixel_limit_is_enforced_before_decoding(tmp_path: Path, sink: MemorySink) -> None:
    declared = samples.png_header_only(tmp_path / "wide.png", 3000, 2000)
    result = process_photo(declared, sink, content_type="image/png", max_pixels=5_000_000)
    assert isinstance(result, Rejected)
    assert result.code == "too-many-pixels"
    assert "3000 by 2000" in result.reason


def test_the_metadata_check_catches_exif_xmp_and_comments() -> None:
    image = samples.two_halves((40, 20))
    for params in (
        {"exif": samples.exif_with_gps(1)},
        {"comment": samples.COMMENT},
        {"xmp": samples.XMP},
        {"icc_profile": samples.srgb_icc()},
    ):
        with pytest.raises(UnsafeOutputError):
            verify_no_metadata(samples.encoded(image, "JPEG", **params), "JPEG")
    with pytest.raises(UnsafeOutputError):
        verify_no_metadata(samples.encoded(image, "PNG", exif=samples.exif_with_gps(1)), "PNG")
    verify_no_metadata(samples.encoded(image, "JPEG"), "JPEG")
    verify_no_metadata(samples.encoded(image, "PNG"), "PNG")
