"""``AuditStore`` in memory: the ``audit`` container, one partition per family."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from shared.ports.errors import MissingError
from shared.ports.records import Document, QueryPage
from tests.fakes.documents import Documents, page_of, pages_of, store_order, text, utc_now


def _chained(doc: Document) -> bool:
    return doc.get("type") == "audit" and isinstance(doc.get("seq"), int)


class InMemoryAudit:
    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self.documents = Documents(clock)

    def append(self, event: Document) -> Document:
        return self.documents.create(str(event["familyId"]), event)

    def head(self, family_id: str) -> tuple[int, str] | None:
        chained = [d for d in self.documents.all(family_id) if _chained(d)]
        if not chained:
            return None
        last = max(chained, key=lambda d: int(d["seq"]))
        return int(last["seq"]), str(last["hash"])

    def chained(self, family_id: str) -> Iterator[Document]:
        found = [d for d in self.documents.all(family_id) if _chained(d)]
        return iter(sorted(found, key=lambda d: int(d["seq"])))

    def unchained_ids(self, family_id: str) -> Iterator[str]:
        return (str(d["id"]) for d in self.documents.all(family_id) if not _chained(d))

    def page(self, family_id: str, limit: int, continuation: str | None) -> QueryPage:
        events = [d for d in self.documents.all(family_id) if d.get("type") == "audit"]

        def newest(doc: Document) -> tuple[Any, ...]:
            return (text(doc.get("at")), str(doc["id"]))

        return page_of(events, newest, limit, continuation, descending=True)

    def export_pages(
        self,
        family_id: str,
        actor: tuple[str, str] | None,
        page_size: int,
        continuation: str | None,
    ) -> Iterator[QueryPage]:
        def by(doc: Document) -> bool:
            who = doc.get("actor") or {}
            return actor is None or (who.get("tid"), who.get("oid")) == actor

        rows = [d for d in self.documents.all(family_id) if by(d)]
        return pages_of(rows, store_order, page_size, continuation)

    def count(self, family_id: str) -> int:
        return len(self.documents.all(family_id))

    def ids_page(self, family_id: str, limit: int, keep: str | None = None) -> list[str]:
        return [str(d["id"]) for d in self.documents.all(family_id) if d["id"] != keep][:limit]

    def delete(self, family_id: str, event_id: str) -> bool:
        try:
            self.documents.delete(family_id, event_id)
        except MissingError:
            return False
        return True

    def events(self, family_id: str) -> list[Document]:
        """Every event of the family, in ``seq`` order (for assertions)."""
        return list(self.chained(family_id))
