"""What the pipeline accepts: kinds, content types, size and pixel limits, and its other knobs.

The allowlist and size limits are those of the API contract. ``MediaOptions`` gathers every
tunable value with its default, so the composition root can build it from app settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["photo", "audio", "video"]
Role = Literal["photo", "video", "audio", "poster", "large", "small"]

MIB = 1024 * 1024

ALLOWED_CONTENT_TYPES: dict[Kind, frozenset[str]] = {
    "photo": frozenset({"image/jpeg", "image/png", "image/webp", "image/heic"}),
    "audio": frozenset({"audio/mpeg", "audio/mp4", "audio/wav", "audio/webm", "audio/ogg"}),
    "video": frozenset({"video/mp4", "video/quicktime", "video/webm"}),
}

KIND_NAMES: dict[Kind, str] = {"photo": "Photos", "audio": "Audio recordings", "video": "Videos"}


@dataclass(frozen=True)
class MediaOptions:
    """Limits and tunables with their defaults. The size limits, pixel limit, served photo size
    and ffmpeg timeout come from app settings; the thumbnail sizes are the API's.

    The served photo is at most ``photo_max_side`` pixels on its longest side: enough for any
    screen, and small enough that a 24-megapixel JPEG is decoded at half scale. The original,
    which keeps its full resolution and its metadata, is never served.
    """

    photo_max_bytes: int = 25 * MIB
    audio_max_bytes: int = 200 * MIB
    video_max_bytes: int = 1024 * MIB
    max_pixels: int = 50_000_000
    photo_max_side: int = 2560
    poster_max_side: int = 1920
    thumbnail_sides: tuple[tuple[Role, int], ...] = (("large", 1280), ("small", 320))
    jpeg_quality: int = 85
    ffmpeg_timeout_seconds: float = 600.0

    def max_bytes(self, kind: Kind) -> int:
        return {
            "photo": self.photo_max_bytes,
            "audio": self.audio_max_bytes,
            "video": self.video_max_bytes,
        }[kind]


def normalise_content_type(value: str) -> str:
    """``Image/JPEG; charset=x`` -> ``image/jpeg``."""
    return value.split(";", 1)[0].strip().lower()


def human_size(size: int) -> str:
    for unit, scale in (("GiB", 1024 * MIB), ("MiB", MIB), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"
