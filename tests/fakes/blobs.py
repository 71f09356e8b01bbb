"""``MediaBlobs`` and ``BlobLinks`` in memory: blob containers with ETags, leases and tags.

As in Blob Storage, every write gives a blob a new ETag; a lease is held by one token until it
is released or lapses (on the fake's clock); a leased blob is deleted only under its lease; and
a read or copy naming an old ETag fails (``VersionMismatchError``).
"""

from __future__ import annotations

import io
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import BinaryIO

from shared.ports.errors import MissingError, StorageError, VersionMismatchError
from shared.ports.media import BlobInfo, DerivativeSink, Lease, SignedUrl
from shared.storage_layout import (
    BLOB_CONTAINERS,
    DERIVATIVES_CONTAINER,
    ORIGINALS_CONTAINER,
    UPLOADS_CONTAINER,
)
from tests.fakes.documents import utc_now


@dataclass
class Blob:
    data: bytes
    content_type: str
    etag: str
    last_modified: datetime
    tags: dict[str, str] = field(default_factory=dict)
    lease: str | None = None
    lease_until: datetime | None = None


class FakeLease:
    def __init__(self, blobs: InMemoryMediaBlobs, name: str, token: str) -> None:
        self.blobs = blobs
        self.name = name
        self.token = token

    def renew(self) -> None:
        self.blobs.renew(self.name, self.token)

    def release(self) -> None:
        self.blobs.release(self.name, self.token)


class WriteRefusedError(StorageError):
    """What a derivative write raises while writes are made to fail."""


class InMemoryMediaBlobs:
    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self.clock = clock
        self.containers: dict[str, dict[str, Blob]] = {name: {} for name in BLOB_CONTAINERS}
        self.failing_writes = 0
        self.writes = 0
        self._lock = threading.RLock()

    # --- what tests arrange and look at -------------------------------------------------------

    def put(
        self,
        container: str,
        name: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        tags: dict[str, str] | None = None,
    ) -> Blob:
        with self._lock:
            blob = Blob(data, content_type, f'"{uuid.uuid4()}"', self.clock(), dict(tags or {}))
            self.containers[container][name] = blob
            return blob

    def put_upload(self, name: str, data: bytes, tags: dict[str, str] | None = None) -> Blob:
        return self.put(UPLOADS_CONTAINER, name, data, tags=tags)

    def names(self, container: str) -> list[str]:
        with self._lock:
            return sorted(self.containers[container])

    def hold_lease(self, name: str, seconds: int = 60) -> Lease:
        """Lease an upload as another worker would."""
        blob = self.containers[UPLOADS_CONTAINER][name]
        lease = self.lease_upload(name, blob.etag, seconds)
        assert lease is not None, "the upload is leased already"
        return lease

    # --- MediaBlobs ---------------------------------------------------------------------------

    def upload(self, name: str) -> BlobInfo | None:
        with self._lock:
            blob = self.containers[UPLOADS_CONTAINER].get(name)
            if blob is None:
                return None
            return BlobInfo(name, blob.etag, len(blob.data), blob.last_modified)

    def lease_upload(self, name: str, etag: str, seconds: int) -> Lease | None:
        with self._lock:
            blob = self._blob(UPLOADS_CONTAINER, name)
            if blob.etag != etag or self._leased(blob):
                return None
            blob.lease = str(uuid.uuid4())
            blob.lease_until = self.clock() + timedelta(seconds=seconds)
            return FakeLease(self, name, blob.lease)

    def renew(self, name: str, token: str) -> None:
        with self._lock:
            blob = self.containers[UPLOADS_CONTAINER].get(name)
            if blob is None or blob.lease != token:
                raise StorageError("the lease is lost")
            blob.lease_until = self.clock() + timedelta(seconds=60)

    def release(self, name: str, token: str) -> None:
        with self._lock:
            blob = self.containers[UPLOADS_CONTAINER].get(name)
            if blob is None or blob.lease != token:
                raise StorageError("the lease is not held")
            blob.lease = blob.lease_until = None

    def upload_tags(self, name: str) -> dict[str, str]:
        with self._lock:
            return dict(self._blob(UPLOADS_CONTAINER, name).tags)

    def read_upload(self, name: str, etag: str) -> io.BytesIO:
        with self._lock:
            blob = self._blob(UPLOADS_CONTAINER, name)
            if blob.etag != etag:
                raise VersionMismatchError()
            return io.BytesIO(blob.data)

    def archive_upload(self, name: str, etag: str) -> None:
        with self._lock:
            blob = self._blob(UPLOADS_CONTAINER, name)
            if blob.etag != etag:
                raise VersionMismatchError()
            self.put(ORIGINALS_CONTAINER, name, blob.data, blob.content_type)

    def discard_upload(
        self, name: str, etag: str | None = None, lease: Lease | None = None
    ) -> None:
        with self._lock:
            blob = self.containers[UPLOADS_CONTAINER].get(name)
            if blob is None or (etag is not None and blob.etag != etag):
                return
            token = lease.token if isinstance(lease, FakeLease) else None
            if self._leased(blob) and blob.lease != token:
                return
            del self.containers[UPLOADS_CONTAINER][name]

    def uploads(self) -> Iterator[BlobInfo]:
        return self._list(UPLOADS_CONTAINER, "")

    def derivatives(self) -> DerivativeSink:
        return _Sink(self)

    def family_blobs(self, container: str, family_id: str) -> Iterator[BlobInfo]:
        return self._list(container, f"{family_id}/")

    def delete_blob(self, container: str, name: str) -> bool:
        with self._lock:
            return self.containers[container].pop(name, None) is not None

    def _list(self, container: str, prefix: str) -> Iterator[BlobInfo]:
        with self._lock:
            found = [
                BlobInfo(name, blob.etag, len(blob.data), blob.last_modified)
                for name, blob in sorted(self.containers[container].items())
                if name.startswith(prefix)
            ]
        return iter(found)

    def _blob(self, container: str, name: str) -> Blob:
        blob = self.containers[container].get(name)
        if blob is None:
            raise MissingError(name)
        return blob

    def _leased(self, blob: Blob) -> bool:
        return blob.lease is not None and (
            blob.lease_until is None or blob.lease_until > self.clock()
        )


class _Sink:
    def __init__(self, blobs: InMemoryMediaBlobs) -> None:
        self.blobs = blobs

    def write(self, name: str, content_type: str, data: BinaryIO, length: int) -> None:
        with self.blobs._lock:
            self.blobs.writes += 1
            if self.blobs.failing_writes:
                self.blobs.failing_writes -= 1
                raise WriteRefusedError("Blob Storage refused the write")
        content = data.read()
        if len(content) != length:
            raise ValueError(f"{name}: expected {length} bytes, read {len(content)}")
        self.blobs.put(DERIVATIVES_CONTAINER, name, content, content_type)


@dataclass
class FakeBlobLinks:
    """Links that name their blob, permission and headers in the clear, for assertions."""

    clock: Callable[[], datetime] = utc_now
    issued: list[dict[str, str]] = field(default_factory=list)

    def upload(self, container: str, blob: str, lifetime: timedelta) -> SignedUrl:
        self.issued.append({"container": container, "blob": blob, "permission": "cw"})
        expires = self.clock() + lifetime
        return SignedUrl(f"https://blobs.test/{container}/{blob}?sp=cw", expires)

    def read(
        self,
        container: str,
        blob: str,
        lifetime: timedelta,
        *,
        content_type: str,
        content_disposition: str,
    ) -> SignedUrl:
        self.issued.append(
            {
                "container": container,
                "blob": blob,
                "permission": "r",
                "contentType": content_type,
                "contentDisposition": content_disposition,
            }
        )
        expires = self.clock() + lifetime
        return SignedUrl(f"https://blobs.test/{container}/{blob}?sp=r", expires)
