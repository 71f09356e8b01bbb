"""``Directory`` and ``Counters`` in memory: documents by their own id, with per-item TTL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from shared.ports.errors import MissingError
from shared.ports.records import Document, QueryPage
from tests.fakes.documents import Documents, page_of, utc_now


class InMemoryDirectory:
    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self.documents = Documents(clock)

    def read(self, document_id: str) -> Document | None:
        return self.documents.read(document_id, document_id)

    def create(self, document: Document) -> Document:
        return self.documents.create(str(document["id"]), document)

    def upsert(self, document: Document) -> Document:
        return self.documents.upsert(str(document["id"]), document)

    def replace(self, document: Document, etag: str) -> Document:
        return self.documents.replace(str(document["id"]), document, etag)

    def delete(self, document_id: str, etag: str) -> None:
        self.documents.delete(document_id, document_id, etag)

    def sign_ins_of(self, family_id: str) -> list[Document]:
        return [
            d
            for d in self.documents.all()
            if d.get("type") == "familylink"
            and ("linkedFamilies" not in d or family_id in (d.get("linkedFamilies") or []))
        ]

    def team_has_staff(self, team_id: str) -> bool:
        return any(
            d.get("type") == "staff" and team_id in (d.get("teamIds") or [])
            for d in self.documents.all()
        )

    def team_staff(self, team_id: str) -> list[Document]:
        return [
            d
            for d in self.documents.all()
            if d.get("type") == "staff" and team_id in (d.get("teamIds") or [])
        ]

    def staff_page(self, limit: int, continuation: str | None) -> QueryPage:
        staff = [d for d in self.documents.all() if d.get("type") == "staff"]
        return page_of(staff, lambda d: (str(d["id"]),), limit, continuation)


class InMemoryCounters:
    """Counters as the directory keeps them: one document each, with a TTL."""

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self.documents = Documents(clock)

    def add(self, counter_id: str, amount: int, ttl_seconds: int) -> int:
        try:
            patched = self.documents.patch_add(counter_id, counter_id, "count", amount)
        except MissingError:
            document = {"id": counter_id, "type": "ratelimit", "count": amount, "ttl": ttl_seconds}
            patched = self.documents.create(counter_id, document)
        return int(patched["count"])
