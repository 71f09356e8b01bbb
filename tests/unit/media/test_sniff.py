"""The real format comes from the bytes: signatures of every accepted family, and what is not."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from shared.media.errors import MediaRejectedError
from shared.media.sniff import check_declared_type, sniff
from tests.unit.media import samples


def family_of(data: bytes) -> str | None:
    found = sniff(io.BytesIO(data))
    return found.key if found else None


def iso(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + b"\x00" * 64


def ebml(doctype: bytes) -> bytes:
    doctype_element = b"\x42\x82" + bytes([0x80 | len(doctype)]) + doctype
    version = b"\x42\x86\x81\x01"
    body = version + doctype_element
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(body)]) + body + b"\x00" * 32


MP3_FRAME = b"\xff\xfb\x90\x64" + b"\x00" * 64


@pytest.mark.parametrize(
    ("data", "family"),
    [
        (samples.encoded(samples.two_halves((8, 8)), "JPEG"), "jpeg"),
        (samples.encoded(samples.two_halves((8, 8)), "PNG"), "png"),
        (samples.encoded(samples.two_halves((8, 8)), "WEBP"), "webp"),
        (iso(b"heic", b"mif1", b"heic"), "heic"),
        (iso(b"mif1", b"mif1", b"heic"), "heic"),
        (iso(b"isom", b"isom", b"avc1"), "isobmff"),
        (iso(b"M4A ", b"M4A ", b"mp42"), "isobmff"),
        (iso(b"qt  ", b"qt  "), "isobmff"),
        (b"\x00\x00\x00\x08wide\x00\x00\x00\x10mdat" + b"\x00" * 32, "isobmff"),
        (ebml(b"webm"), "webm"),
        (b"OggS\x00\x02" + b"\x00" * 64, "ogg"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 64, "wav"),
        (MP3_FRAME, "mp3"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x0a" + b"\x00" * 10 + MP3_FRAME, "mp3"),
    ],
)
def test_accepted_families_are_recognised_from_their_bytes(data: bytes, family: str) -> None:
    assert family_of(data) == family


@pytest.mark.parametrize(
    "data",
    [
        b"\x7fELF\x02\x01\x01" + b"\x00" * 64,
        b"MZ\x90\x00" + b"\x00" * 64,
        b"%PDF-1.7\n" + b"\x00" * 64,
        b"GIF89a" + b"\x00" * 64,
        ebml(b"matroska"),
        iso(b"avif", b"avif", b"mif1"),
        iso(b"mif1", b"mif1", b"avif"),
        b"ID3\x04\x00\x00\x00\x00\x00\x0a" + b"\x00" * 10 + b"fLaC" + b"\x00" * 64,
        b"\xff\xfb\xf0\x64" + b"\x00" * 64,
        b"",
        b"\x00\x00\x00",
    ],
)
def test_everything_else_is_unrecognised(data: bytes) -> None:
    assert family_of(data) is None


def test_mp3_after_a_long_id3_tag_is_recognised() -> None:
    tag_size = 300_000
    syncsafe = bytes((tag_size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    data = b"ID3\x03\x00\x00" + syncsafe + b"\x01" * tag_size + MP3_FRAME
    assert family_of(data) == "mp3"


def test_declared_type_must_be_allowed_for_the_kind(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(samples.encoded(samples.two_halves((8, 8)), "JPEG"))
    with pytest.raises(MediaRejectedError) as caught:
        check_declared_type("video", "image/jpeg", path)
    assert caught.value.code == "type-not-allowed"
    assert "Videos must be one of" in caught.value.reason


def test_declared_type_must_match_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(samples.encoded(samples.two_halves((8, 8)), "PNG"))
    with pytest.raises(MediaRejectedError) as caught:
        check_declared_type("photo", "image/jpeg", path)
    assert caught.value.code == "type-mismatch"
    assert caught.value.reason == "The file is a PNG image, but it was uploaded as image/jpeg."


def test_declared_type_parameters_and_case_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(samples.encoded(samples.two_halves((8, 8)), "PNG"))
    assert check_declared_type("photo", "Image/PNG; charset=binary", path).key == "png"
