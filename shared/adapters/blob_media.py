"""``MediaBlobs`` on Blob Storage: uploads, originals and derivatives of media.

Every condition is the blob's ETag (``If-Match``), so a worker only ever reads, archives or
deletes the version of an upload it leased. A server-side copy to ``originals`` is waited for
(polled) up to ``COPY_TIMEOUT_SECONDS``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

from shared.adapters.faults import BLOB_STORAGE, translated
from shared.ports.errors import (
    AlreadyExistsError,
    MissingError,
    StorageError,
    VersionMismatchError,
)
from shared.ports.media import BlobInfo, DerivativeSink, Lease
from shared.storage_layout import DERIVATIVES_CONTAINER, ORIGINALS_CONTAINER, UPLOADS_CONTAINER

if TYPE_CHECKING:
    from azure.storage.blob import BlobClient, BlobLeaseClient, BlobServiceClient, ContainerClient

COPY_POLL_SECONDS = 0.5
COPY_TIMEOUT_SECONDS = 600.0
UPLOAD_CONCURRENCY = 2


class BlobLease:
    def __init__(self, client: BlobLeaseClient) -> None:
        self.client = client

    def renew(self) -> None:
        with translated(BLOB_STORAGE):
            self.client.renew()

    def release(self) -> None:
        with translated(BLOB_STORAGE):
            self.client.release()


class _Download:
    """A blob's bytes, streamed; a read failing mid-way raises the port's error."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def read(self, size: int, /) -> bytes:
        with translated(BLOB_STORAGE):
            data: bytes = self._stream.read(size)
        return data


class ContainerSink:
    """Uploads each derivative to a blob container, streaming it in blocks."""

    def __init__(self, container: ContainerClient) -> None:
        self.container = container

    def write(self, name: str, content_type: str, data: BinaryIO, length: int) -> None:
        from azure.storage.blob import ContentSettings

        self.container.upload_blob(
            name,
            data,
            length=length,
            overwrite=True,
            content_settings=ContentSettings(content_type=content_type),
            max_concurrency=UPLOAD_CONCURRENCY,
        )


class AzureMediaBlobs:
    def __init__(self, service: BlobServiceClient) -> None:
        self._service = service

    def _upload(self, name: str) -> BlobClient:
        return self._service.get_blob_client(UPLOADS_CONTAINER, name)

    def upload(self, name: str) -> BlobInfo | None:
        try:
            with translated(BLOB_STORAGE):
                properties = self._upload(name).get_blob_properties()
        except MissingError:
            return None
        return BlobInfo(name, str(properties.etag), int(properties.size), properties.last_modified)

    def lease_upload(self, name: str, etag: str, seconds: int) -> Lease | None:
        from azure.core import MatchConditions
        from azure.storage.blob import BlobLeaseClient

        client = BlobLeaseClient(self._upload(name))
        try:
            with translated(BLOB_STORAGE):
                client.acquire(
                    lease_duration=seconds, etag=etag, match_condition=MatchConditions.IfNotModified
                )
        except (AlreadyExistsError, VersionMismatchError):  # leased elsewhere, or replaced
            return None
        return BlobLease(client)

    def upload_tags(self, name: str) -> dict[str, str]:
        with translated(BLOB_STORAGE):
            tags: dict[str, str] = self._upload(name).get_blob_tags()
        return tags

    def read_upload(self, name: str, etag: str) -> _Download:
        from azure.core import MatchConditions

        with translated(BLOB_STORAGE):
            stream = self._upload(name).download_blob(
                etag=etag, match_condition=MatchConditions.IfNotModified, max_concurrency=1
            )
        return _Download(stream)

    def archive_upload(self, name: str, etag: str) -> None:
        from azure.core import MatchConditions

        original = self._service.get_blob_client(ORIGINALS_CONTAINER, name)
        with translated(BLOB_STORAGE):
            copy = original.start_copy_from_url(
                self._upload(name).url,
                source_etag=etag,
                source_match_condition=MatchConditions.IfNotModified,
            )
            status = copy.get("copy_status")
            deadline = time.monotonic() + COPY_TIMEOUT_SECONDS
            while status == "pending" and time.monotonic() < deadline:
                time.sleep(COPY_POLL_SECONDS)
                status = original.get_blob_properties().copy.status
        if status != "success":
            raise StorageError(f"copying the original ended {status}; it will be retried")

    def discard_upload(
        self, name: str, etag: str | None = None, lease: Lease | None = None
    ) -> None:
        from azure.core import MatchConditions

        condition: dict[str, Any] = (
            {"etag": etag, "match_condition": MatchConditions.IfNotModified} if etag else {}
        )
        if isinstance(lease, BlobLease):
            condition["lease"] = lease.client
        try:
            with translated(BLOB_STORAGE):
                self._upload(name).delete_blob(**condition)
        except (MissingError, VersionMismatchError):  # gone, replaced, or leased elsewhere
            return

    def uploads(self) -> Iterator[BlobInfo]:
        return self._list(UPLOADS_CONTAINER, None)

    def derivatives(self) -> DerivativeSink:
        return ContainerSink(self._service.get_container_client(DERIVATIVES_CONTAINER))

    def family_blobs(self, container: str, family_id: str) -> Iterator[BlobInfo]:
        return self._list(container, f"{family_id}/")

    def delete_blob(self, container: str, name: str) -> bool:
        try:
            with translated(BLOB_STORAGE):
                self._service.get_container_client(container).delete_blob(
                    name, delete_snapshots="include"
                )
        except MissingError:
            return False
        return True

    def _list(self, container: str, prefix: str | None) -> Iterator[BlobInfo]:
        client = self._service.get_container_client(container)
        with translated(BLOB_STORAGE):
            for blob in client.list_blobs(name_starts_with=prefix):
                yield BlobInfo(
                    str(blob.name), str(blob.etag), int(blob.size or 0), blob.last_modified
                )
