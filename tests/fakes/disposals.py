"""``Disposals`` in memory: one certificate per disposed family."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from shared.ports.records import Document, QueryPage
from tests.fakes.documents import Documents, page_of, text, utc_now


class InMemoryDisposals:
    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self.documents = Documents(clock)

    def read(self, family_id: str) -> Document | None:
        return self.documents.read(family_id, family_id)

    def create(self, certificate: Document) -> Document:
        return self.documents.create(str(certificate["id"]), certificate)

    def replace(self, certificate: Document, etag: str) -> Document:
        return self.documents.replace(str(certificate["id"]), certificate, etag)

    def in_progress(self) -> Iterator[Document]:
        return (d for d in self.documents.all() if d.get("status") == "destroying")

    def newest_first(self, limit: int, continuation: str | None) -> QueryPage:
        certificates = [d for d in self.documents.all() if d.get("type") == "disposalCertificate"]
        return page_of(
            certificates,
            lambda d: (text(d.get("destroyStartedAt")), str(d["id"])),
            limit,
            continuation,
            descending=True,
        )
