"""Photos: decode safely, orient, and re-encode without any metadata, plus two thumbnails.

- Pillow opens only the sniffed format (``formats=``), never guesses.
- Its decompression-bomb warning is an error, and our own pixel limit applies before decoding.
- Truncated files fail to load (``ImageFile.LOAD_TRUNCATED_IMAGES`` is left off).
- JPEGs decode at a reduced DCT scale (draft mode) when the output is smaller, and resizing
  reduces by whole factors first (``reducing_gap``), so thumbnails cost a fraction of a full
  decode and resample.
- The EXIF orientation is applied to the pixels; then every piece of metadata (EXIF with GPS,
  XMP, ICC profile, comments) is dropped, colours having been converted to sRGB first. Every
  output is read back and checked before anyone can be served it.
"""

from __future__ import annotations

import io
import struct
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shared.media.errors import MediaRejectedError, UnsafeOutputError
from shared.media.policy import MediaOptions, Role

if TYPE_CHECKING:
    from PIL import Image

PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "heic": "HEIF"}
REDUCING_GAP = 2.0
PHOTO_RESAMPLING = "LANCZOS"
THUMBNAIL_RESAMPLING = "BICUBIC"
DECODE_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    struct.error,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    MemoryError,
)
JPEG_ALLOWED_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC4, 0xDB, 0xDD})
PNG_ALLOWED_CHUNKS = frozenset({b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"})
METADATA_INFO_KEYS = ("exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment", "photoshop")

_open_lock = threading.Lock()
_heif_lock = threading.Lock()
_heif_registered = False


@dataclass(frozen=True)
class Rendition:
    """An encoded image, ready to be stored."""

    role: Role
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def render_photo(path: Path, family: str, options: MediaOptions) -> list[Rendition]:
    """The sanitised photo followed by its thumbnails (largest first)."""
    thumbnails = render_thumbnails(path, family, options)
    return [_render_display(path, family, options), *thumbnails]


def render_thumbnails(
    path: Path, family: str, options: MediaOptions, roles: tuple[tuple[Role, int], ...] = ()
) -> list[Rendition]:
    """JPEG thumbnails whose longest sides are those of ``roles`` (default: the options')."""

    roles = tuple(sorted(roles or options.thumbnail_sides, key=lambda role: -role[1]))
    renditions: list[Rendition] = []
    with open_image(path, family, options.max_pixels) as image, _decoding():
        largest = fit(image.size, roles[0][1])
        if family == "jpeg":
            image.draft("RGB", largest)
        image.load()
        current: Image.Image = _prepare(image)
        for role, side in roles:
            current = _shrink(current, side, THUMBNAIL_RESAMPLING)
            renditions.append(_encode(role, _finish(current, keep_alpha=False), options))
    return renditions


def _render_display(path: Path, family: str, options: MediaOptions) -> Rendition:

    with open_image(path, family, options.max_pixels) as image, _decoding():
        target = fit(image.size, options.photo_max_side)
        if family == "jpeg":
            image.draft("RGB", target)
        image.load()
        current = _shrink(_prepare(image), options.photo_max_side, PHOTO_RESAMPLING)
        return _encode("photo", _finish(current, keep_alpha=True), options)


@contextmanager
def open_image(path: Path, family: str, max_pixels: int) -> Iterator[Image.Image]:
    """Open (not decode) the image as its sniffed format only, within the pixel limits."""
    from PIL import Image

    if family == "heic":
        _register_heif()
    # warnings.catch_warnings changes process-wide state: the lock keeps two photo decodes in
    # this process from restoring each other's filters. Only the header parse runs under it.
    with _open_lock, warnings.catch_warnings(), _decoding():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(path, formats=[PIL_FORMATS[family]])
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
            limit = min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)
            raise _too_many_pixels(None, limit) from error
    with image:
        width, height = image.size
        if width * height > max_pixels:
            raise _too_many_pixels((width, height), max_pixels)
        if width < 1 or height < 1:
            raise MediaRejectedError("The photo has no pixels.", "undecodable")
        yield image


def _shrink(image: Image.Image, side: int, resampling: str) -> Image.Image:
    from PIL import Image

    target = fit(image.size, side)
    if target == image.size:
        return image
    return image.resize(target, Image.Resampling[resampling], reducing_gap=REDUCING_GAP)


def fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    """``size`` scaled down (never up) so that its longest side is at most ``side``."""
    width, height = size
    scale = side / max(width, height)
    if scale >= 1:
        return size
    return max(1, round(width * scale)), max(1, round(height * scale))


@contextmanager
def _decoding() -> Iterator[None]:
    from PIL import UnidentifiedImageError

    try:
        yield
    except UnidentifiedImageError as error:
        raise MediaRejectedError(
            "The photo could not be read: its contents are not a valid image of its type.",
            "undecodable",
        ) from error
    except DECODE_ERRORS as error:
        raise MediaRejectedError(
            "The photo could not be read: the file is damaged or incomplete.", "undecodable"
        ) from error


def _too_many_pixels(size: tuple[int, int] | None, limit: int) -> MediaRejectedError:
    what = f"{size[0]} by {size[1]} pixels" if size else "too many pixels"
    return MediaRejectedError(
        f"The photo has {what}; photos can have at most {limit / 1e6:g} megapixels.",
        "too-many-pixels",
    )


def _register_heif() -> None:
    global _heif_registered
    with _heif_lock:
        if not _heif_registered:
            from pillow_heif import register_heif_opener

            register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)
            _heif_registered = True


def _prepare(image: Image.Image) -> Image.Image:
    """A mode that resamples well (palette, bilevel and 16-bit images are expanded)."""
    if image.mode in ("RGB", "RGBA", "L", "LA", "CMYK"):
        return image
    if image.mode in ("P", "PA"):
        transparent = image.mode == "PA" or "transparency" in image.info
        return image.convert("RGBA" if transparent else "RGB")
    if image.mode.startswith("I") or image.mode == "F":
        return image.convert("I").point(lambda value: value / 256).convert("L")
    return image.convert("RGBA" if "A" in image.mode else "RGB")


def _finish(image: Image.Image, *, keep_alpha: bool) -> Image.Image:
    """Oriented, in sRGB, RGB (or RGBA when kept), with no metadata left on it."""
    from PIL import Image, ImageOps

    oriented = ImageOps.exif_transpose(image)
    icc_profile = image.info.get("icc_profile")
    has_alpha = "A" in oriented.mode
    converted = _to_srgb(oriented, icc_profile, "RGBA" if has_alpha else "RGB")
    if has_alpha and not keep_alpha:
        flattened = Image.new("RGB", converted.size, "white")
        flattened.paste(converted, mask=converted.getchannel("A"))
        converted = flattened
    elif has_alpha and converted.getchannel("A").getextrema() == (255, 255):
        converted = converted.convert("RGB")
    converted.info.clear()
    return converted


def _to_srgb(image: Image.Image, icc_profile: object, mode: str) -> Image.Image:
    from PIL import ImageCms

    if isinstance(icc_profile, bytes) and icc_profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            converted = ImageCms.profileToProfile(
                image, source, ImageCms.createProfile("sRGB"), outputMode=mode
            )
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            converted = None
        if converted is not None:
            return converted
    return image if image.mode == mode else image.convert(mode)


def _encode(role: Role, image: Image.Image, options: MediaOptions) -> Rendition:
    buffer = io.BytesIO()
    if image.mode == "RGBA":
        image.save(buffer, "PNG", compress_level=6)
        content_type, extension, pil_format = "image/png", "png", "PNG"
    else:
        image.save(buffer, "JPEG", quality=options.jpeg_quality, optimize=True)
        content_type, extension, pil_format = "image/jpeg", "jpg", "JPEG"
    data = buffer.getvalue()
    verify_no_metadata(data, pil_format)
    return Rendition(role, data, content_type, extension, image.width, image.height)


def verify_no_metadata(data: bytes, pil_format: str) -> None:
    """Read an encoded image back: raise ``UnsafeOutputError`` if it carries any metadata."""
    from PIL import Image

    if pil_format == "JPEG":
        _check_jpeg_segments(data)
    else:
        _check_png_chunks(data)
    with Image.open(io.BytesIO(data), formats=[pil_format]) as reread:
        found = [key for key in METADATA_INFO_KEYS if reread.info.get(key)]
        if found or len(reread.getexif()):
            raise UnsafeOutputError(f"metadata left in output: {found or ['exif']}")


def _check_jpeg_segments(data: bytes) -> None:
    if not data.startswith(b"\xff\xd8"):
        raise UnsafeOutputError("not a JPEG")
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            raise UnsafeOutputError("malformed JPEG segment")
        marker = data[at + 1]
        if marker == 0xFF:
            at += 1
            continue
        if marker == 0xDA:
            return
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        body = data[at + 4 : at + 2 + length]
        if not (marker in JPEG_ALLOWED_MARKERS or (marker == 0xE0 and body[:5] == b"JFIF\0")):
            raise UnsafeOutputError(f"JPEG segment 0x{marker:02X} is not allowed")
        at += 2 + length
    raise UnsafeOutputError("JPEG without image data")


def _check_png_chunks(data: bytes) -> None:
    at = 8
    while at + 8 <= len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        chunk = data[at + 4 : at + 8]
        if chunk not in PNG_ALLOWED_CHUNKS:
            raise UnsafeOutputError(f"PNG chunk {chunk!r} is not allowed")
        at += 12 + length
