"""What the disposal run and its readers need from the store of disposal certificates, kept
for good, one per disposed family (its id is the family's)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from shared.ports.records import Document, QueryPage


class Disposals(Protocol):
    def read(self, family_id: str) -> Document | None: ...

    def create(self, certificate: Document) -> Document:
        """Raises ``AlreadyExistsError`` when the family has one."""
        ...

    def replace(self, certificate: Document, etag: str) -> Document:
        """Raises ``VersionMismatchError`` when ``etag`` is stale."""
        ...

    def in_progress(self) -> Iterator[Document]:
        """Certificates whose destruction has not completed."""
        ...

    def newest_first(self, limit: int, continuation: str | None) -> QueryPage: ...
