"""What media processing needs from Blob Storage, and how links to one blob are issued.

Uploads arrive in ``uploads`` as ``<familyId>/<mediaId>``; a worker leases one while it
processes it, reads it at the version it leased (``etag``), archives it to ``originals`` and
writes derivatives to ``derivatives``. A read or copy of an upload replaced meanwhile fails with
``VersionMismatchError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO, Protocol


@dataclass(frozen=True)
class BlobInfo:
    name: str
    etag: str
    size: int
    last_modified: datetime


@dataclass(frozen=True)
class SignedUrl:
    url: str
    expires_at: datetime


class Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


class DerivativeSink(Protocol):
    """Stores one derivative under ``name``, replacing any earlier one of that name."""

    def write(self, name: str, content_type: str, data: BinaryIO, length: int) -> None: ...


class Lease(Protocol):
    """A worker's lease on one upload; it lapses unless renewed."""

    def renew(self) -> None: ...

    def release(self) -> None: ...


class MediaBlobs(Protocol):
    def upload(self, name: str) -> BlobInfo | None:
        """The upload's properties; None when there is no such upload."""
        ...

    def lease_upload(self, name: str, etag: str, seconds: int) -> Lease | None:
        """Lease the upload at version ``etag``; None when another worker holds it, or it was
        replaced meanwhile."""
        ...

    def upload_tags(self, name: str) -> dict[str, str]: ...

    def read_upload(self, name: str, etag: str) -> Readable:
        """The upload's bytes at version ``etag``, streamed."""
        ...

    def archive_upload(self, name: str, etag: str) -> None:
        """Copy the upload at version ``etag`` to ``originals`` (on the server), and wait for
        the copy to finish."""
        ...

    def discard_upload(
        self, name: str, etag: str | None = None, lease: Lease | None = None
    ) -> None:
        """Delete the upload (only version ``etag``, under ``lease`` when given). Gone, replaced
        or leased by another worker: left as it is."""
        ...

    def uploads(self) -> Iterator[BlobInfo]: ...

    def derivatives(self) -> DerivativeSink: ...

    def family_blobs(self, container: str, family_id: str) -> Iterator[BlobInfo]:
        """The blobs named ``<family_id>/...`` in one media container."""
        ...

    def delete_blob(self, container: str, name: str) -> bool:
        """Delete a blob and its snapshots; False when it was already gone."""
        ...


class BlobLinks(Protocol):
    """Short-lived URLs for exactly one blob each."""

    def upload(self, container: str, blob: str, lifetime: timedelta) -> SignedUrl:
        """Create and write this one blob."""
        ...

    def read(
        self,
        container: str,
        blob: str,
        lifetime: timedelta,
        *,
        content_type: str,
        content_disposition: str,
    ) -> SignedUrl:
        """Read this one blob, served with these headers."""
        ...


# --- speech to text ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SpeechSegment:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class RecognisedSpeech:
    text: str
    segments: tuple[SpeechSegment, ...] = field(default_factory=tuple)
    language: str | None = None


class TranscriptionEngine(Protocol):
    """Transcribes a recording. Raises ``TranscriptionError`` when it cannot."""

    @property
    def name(self) -> str: ...

    def transcribe(self, path: Path, family: str, *, work_dir: Path) -> RecognisedSpeech: ...
