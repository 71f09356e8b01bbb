"""Sample uploads made in the test itself: photos with metadata, bombs, videos, speech."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

from PIL import ExifTags, Image, ImageCms

RED, BLUE = (255, 0, 0), (0, 0, 255)
GPS_LATITUDE = (51.0, 30.0, 12.5)
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" photoshop:City="Homeville"/>'
    b"</rdf:RDF></x:xmpmeta>"
)
COMMENT = b"taken at 12 Home Street"
SPEECH_TEXT = (
    "The social worker visited the family on Tuesday morning. "
    "The children showed their drawings and talked about school. "
    "We agreed to meet again next week."
)


def ffmpeg_exe() -> str:
    import imageio_ffmpeg  # type: ignore[import-untyped]

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-nostdin", "-y", *args], check=True)


def two_halves(size: tuple[int, int]) -> Image.Image:
    """Left half red, right half blue: after a quarter turn, one colour is on top."""
    image = Image.new("RGB", size, RED)
    image.paste(BLUE, (size[0] // 2, 0, size[0], size[1]))
    return image


def exif_with_gps(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = GPS_LATITUDE
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (0.0, 7.0, 40.0)
    return exif


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def jpeg_with_gps(path: Path, size: tuple[int, int] = (1600, 800), orientation: int = 6) -> Path:
    two_halves(size).save(
        path,
        "JPEG",
        quality=92,
        exif=exif_with_gps(orientation),
        comment=COMMENT,
        xmp=XMP,
        icc_profile=srgb_icc(),
    )
    return path


def heic_with_gps(path: Path, size: tuple[int, int] = (640, 320)) -> Path:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    two_halves(size).save(path, "HEIF", quality=90, exif=exif_with_gps(6).tobytes(), xmp=XMP)
    return path


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(path: Path, side: int = 50_000) -> Path:
    """A valid bilevel PNG of side x side zero pixels: a few hundred KiB, gigabytes decoded."""
    row = b"\x00" * (1 + (side + 7) // 8)
    compressor = zlib.compressobj(9)
    block_rows = 1000
    parts = [compressor.compress(row * block_rows) for _ in range(side // block_rows)]
    parts.append(compressor.compress(row * (side % block_rows)))
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", b"".join(parts))
        + png_chunk(b"IEND", b"")
    )
    return path


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG that declares a size but holds no pixel data: it must never get as far as loading."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )
    return path


def encoded(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def synthetic_video(
    path: Path, *, seconds: float = 2.0, size: str = "320x240", audio: Path | None = None
) -> Path:
    """A testsrc video (H.264 in MP4 or MOV, VP9 in WebM) with metadata that must not survive."""
    video_codec = ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"]
    audio_codec = ["-c:a", "libopus"]
    if path.suffix in (".mp4", ".mov"):
        video_codec = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
        audio_codec = ["-c:a", "aac"]
    sound = ["-i", str(audio)] if audio else ["-f", "lavfi", "-i", f"sine=f=440:d={seconds}"]
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc=d={seconds}:s={size}:r=25", *sound,
        "-map", "0:v", "-map", "1:a", "-shortest",
        "-metadata", "title=Visit at 12 Home Street",
        "-metadata", "location=+51.5034-000.1276/",
        "-metadata", "comment=secret comment",
        *video_codec, *audio_codec, str(path),
    )  # fmt: skip
    return path


def speech_wav(path: Path, text: str = SPEECH_TEXT) -> Path:
    """Speech synthesised by Festival's kal voice, which PocketSphinx recognises well."""
    text2wave = shutil.which("text2wave")
    if text2wave is None:
        raise RuntimeError(
            "text2wave not found: install the Debian packages festival and festvox-kallpc16k"
        )
    source = path.with_suffix(".txt")
    source.write_text(text)
    subprocess.run(
        [text2wave, "-o", str(path), "-eval", "(voice_kal_diphone)", str(source)],
        check=True,
        capture_output=True,
    )
    return path
