"""``AuditAnchors`` on Blob Storage: an append blob per family and month in ``audit-anchors``
(``<familyId>/<YYYY-MM>.jsonl``), one JSON line per seal.

In Azure the container has a time-based immutability policy that allows appends only (the Bicep
makes it), so a line, once written, can be neither changed nor removed while the policy holds.
Azurite has no immutability: locally the container is an ordinary one, made on first use, and
only the app's own discipline (it appends, never writes over) stands in for the policy.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from shared.adapters.faults import BLOB_STORAGE, translated
from shared.ports.errors import MissingError
from shared.storage_layout import AUDIT_ANCHORS_CONTAINER

if TYPE_CHECKING:
    from azure.storage.blob import BlobClient, BlobServiceClient


class BlobAnchors:
    def __init__(self, service: BlobServiceClient) -> None:
        self._container = service.get_container_client(AUDIT_ANCHORS_CONTAINER)

    def append(self, family_id: str, month: str, line: Mapping[str, Any]) -> None:
        data = (json.dumps(line, sort_keys=True, separators=(",", ":")) + "\n").encode()
        blob = self._container.get_blob_client(f"{family_id}/{month}.jsonl")
        with translated(BLOB_STORAGE):
            self._append(blob, data)

    def _append(self, blob: BlobClient, data: bytes) -> None:
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

        try:
            blob.append_block(data)
            return
        except ResourceNotFoundError as missing:
            if getattr(missing, "error_code", None) == "ContainerNotFound":
                self._make_container()
        with contextlib.suppress(ResourceExistsError):
            blob.create_append_blob(match_condition=MatchConditions.IfMissing)
        blob.append_block(data)

    def _make_container(self) -> None:
        """Locally only: in Azure the Bicep makes the container, with its policy."""
        from azure.core.exceptions import ResourceExistsError

        with contextlib.suppress(ResourceExistsError):
            self._container.create_container()

    def months(self, family_id: str) -> list[str]:
        prefix = f"{family_id}/"
        try:
            with translated(BLOB_STORAGE):
                names = [blob.name for blob in self._container.list_blobs(name_starts_with=prefix)]
        except MissingError:
            return []
        return sorted(name[len(prefix) :].removesuffix(".jsonl") for name in names)

    def lines(self, family_id: str, month: str) -> list[dict[str, Any]]:
        blob = self._container.get_blob_client(f"{family_id}/{month}.jsonl")
        with translated(BLOB_STORAGE):
            text = blob.download_blob().readall().decode()
        return [json.loads(line) for line in text.splitlines() if line.strip()]
