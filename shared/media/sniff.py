"""The real format of an upload, read from its first bytes, checked against what was declared.

Hand-written signatures rather than a general magic library: the allowlist has nine container
families, and telling them apart needs details that general libraries rank loosely or get wrong
(an HEIC file is an ISO media file whose ``ftyp`` brands say HEVC image; WebM and Matroska share
EBML and differ only in the header's DocType; an MP3 may start with an ID3 tag of any length or
with a bare frame header). Anything not recognised here is rejected; the decoders then confirm
the format (Pillow opens only the sniffed format; ffmpeg must name the same demuxer).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from shared.media.errors import MediaRejectedError
from shared.media.policy import ALLOWED_CONTENT_TYPES, KIND_NAMES, Kind, normalise_content_type

HEAD_BYTES = 4096
ID3_SCAN_BYTES = 4096
HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
HEIF_GENERIC_BRANDS = frozenset({b"mif1", b"msf1", b"mif2"})
QUICKTIME_ATOMS = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})
EBML_MAGIC = b"\x1a\x45\xdf\xa3"
EBML_DOCTYPE_ID = 0x4282


@dataclass(frozen=True)
class Family:
    """A container format: its name for people, the content types it may carry, its decoder."""

    key: str
    label: str
    content_types: frozenset[str]


FAMILIES = {
    family.key: family
    for family in (
        Family("jpeg", "a JPEG image", frozenset({"image/jpeg"})),
        Family("png", "a PNG image", frozenset({"image/png"})),
        Family("webp", "a WebP image", frozenset({"image/webp"})),
        Family("heic", "an HEIC image", frozenset({"image/heic"})),
        Family(
            "isobmff",
            "an MP4 or QuickTime file",
            frozenset({"video/mp4", "video/quicktime", "audio/mp4"}),
        ),
        Family("webm", "a WebM file", frozenset({"video/webm", "audio/webm"})),
        Family("ogg", "an Ogg file", frozenset({"audio/ogg"})),
        Family("wav", "a WAV file", frozenset({"audio/wav"})),
        Family("mp3", "an MP3 file", frozenset({"audio/mpeg"})),
    )
}

SUSPICIOUS = (
    (b"\x7fELF", "a program"),
    (b"MZ", "a program"),
    (b"#!", "a script"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive or office document"),
)


def check_declared_type(kind: Kind, content_type: str, path: Path) -> Family:
    """The family of the file at ``path``, if it is allowed for ``kind`` and matches the type."""
    declared = normalise_content_type(content_type)
    allowed = ALLOWED_CONTENT_TYPES[kind]
    if declared not in allowed:
        raise MediaRejectedError(
            f"{KIND_NAMES[kind]} must be one of {', '.join(sorted(allowed))}; "
            f"this upload was declared as {declared or 'no type'}.",
            "type-not-allowed",
        )
    with path.open("rb") as stream:
        family = sniff(stream)
        if family is None:
            stream.seek(0)
            looks_like = _suspicious(stream.read(8))
            raise MediaRejectedError(
                f"The file's contents are not a format we accept"
                f"{f' (it looks like {looks_like})' if looks_like else ''}, "
                f"although it was uploaded as {declared}.",
                "unrecognised-content",
            )
    if declared not in family.content_types:
        raise MediaRejectedError(
            f"The file is {family.label}, but it was uploaded as {declared}.",
            "type-mismatch",
        )
    return family


def sniff(stream: BinaryIO) -> Family | None:
    head = stream.read(HEAD_BYTES)
    key = _sniff_head(head) or _sniff_mp3(stream, head)
    return FAMILIES[key] if key else None


def _sniff_head(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(EBML_MAGIC):
        return "webm" if _ebml_doctype(head) == b"webm" else None
    if head[4:8] == b"ftyp":
        return _iso_family(head)
    if len(head) >= 8 and head[4:8] in QUICKTIME_ATOMS:
        return "isobmff"
    return None


def _iso_family(head: bytes) -> str | None:
    box_size = int.from_bytes(head[0:4], "big")
    if box_size < 16 or box_size > len(head):
        return None
    major = head[8:12]
    compatible = {head[i : i + 4] for i in range(16, box_size - 3, 4)}
    if major in HEIF_BRANDS or (major in HEIF_GENERIC_BRANDS and compatible & HEIF_BRANDS):
        return "heic"
    if major in HEIF_GENERIC_BRANDS or major in {b"avif", b"avis"}:
        return None
    return "isobmff"


def _read_vint(data: bytes, at: int, *, keep_marker: bool) -> tuple[int, int] | None:
    """An EBML variable-length integer at ``at``: (value, length), or None if malformed."""
    if at >= len(data) or data[at] == 0:
        return None
    length = 8 - data[at].bit_length() + 1
    if at + length > len(data):
        return None
    value = int.from_bytes(data[at : at + length], "big")
    if not keep_marker:
        value &= (1 << (7 * length)) - 1
    return value, length


def _ebml_doctype(head: bytes) -> bytes | None:
    size = _read_vint(head, 4, keep_marker=False)
    if size is None:
        return None
    at = 4 + size[1]
    end = min(at + size[0], len(head))
    while at < end:
        element = _read_vint(head, at, keep_marker=True)
        if element is None:
            return None
        length = _read_vint(head, at + element[1], keep_marker=False)
        if length is None:
            return None
        start = at + element[1] + length[1]
        if element[0] == EBML_DOCTYPE_ID:
            return head[start : start + length[0]].rstrip(b"\x00")
        at = start + length[0]
    return None


def _sniff_mp3(stream: BinaryIO, head: bytes) -> str | None:
    offset = 0
    if head.startswith(b"ID3") and len(head) >= 10:
        tag_size = 0
        for byte in head[6:10]:
            if byte & 0x80:
                return None
            tag_size = (tag_size << 7) | byte
        offset = 10 + tag_size + (10 if head[5] & 0x10 else 0)
        stream.seek(offset)
        head = stream.read(ID3_SCAN_BYTES).lstrip(b"\x00")
    return "mp3" if _is_mpeg_audio_frame(head) else None


def _is_mpeg_audio_frame(head: bytes) -> bool:
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 0b11, (head[1] >> 1) & 0b11
    bitrate, sample_rate = head[2] >> 4, (head[2] >> 2) & 0b11
    return version != 0b01 and layer != 0 and bitrate not in (0, 0xF) and sample_rate != 0b11


def _suspicious(head: bytes) -> str | None:
    return next((what for magic, what in SUSPICIOUS if head.startswith(magic)), None)
