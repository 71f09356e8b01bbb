"""``AuditStore`` in memory (the ``audit`` container: events and seals, one partition per
family, and the sealer's cursor), and ``AuditAnchors`` in memory (append-only lines)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from shared.audit_chain import seal_order
from shared.ports.errors import AlreadyExistsError, MissingError, VersionMismatchError
from shared.ports.records import Document, QueryPage
from tests.fakes.documents import Documents, page_of, pages_of, store_order, text, utc_now

CURSOR = ("audit-sealer", "cursor")


def _event(doc: Document) -> bool:
    return doc.get("type") == "audit"


def _seal(doc: Document) -> bool:
    return doc.get("type") == "auditSeal"


class InMemoryAudit:
    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self.documents = Documents(clock)

    # --- events -------------------------------------------------------------------------------

    def append(self, event: Document) -> Document:
        return self.documents.create(str(event["familyId"]), event)

    def event(self, family_id: str, event_id: str) -> Document | None:
        return self.documents.read(family_id, event_id)

    def events_between(
        self, family_id: str, after: int, through: int | None, limit: int | None = None
    ) -> list[Document]:
        found = [
            d
            for d in self.documents.all(family_id)
            if _event(d) and after < int(d["_ts"]) and (through is None or d["_ts"] <= through)
        ]
        return sorted(found, key=seal_order)[:limit]

    def count_events_after(self, family_id: str, after: int) -> int:
        return len(self.events_between(family_id, after, None))

    def families_with_events(self, after: int, through: int) -> list[str]:
        return sorted(
            {
                str(d["familyId"])
                for d in self.documents.all()
                if _event(d) and after < int(d["_ts"]) <= through
            }
        )

    def page(self, family_id: str, limit: int, continuation: str | None) -> QueryPage:
        events = [d for d in self.documents.all(family_id) if _event(d)]

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

        rows = [d for d in self.documents.all(family_id) if _event(d) and by(d)]
        return pages_of(rows, store_order, page_size, continuation)

    # --- seals --------------------------------------------------------------------------------

    def add_seal(self, seal: Document) -> Document:
        return self.documents.create(str(seal["familyId"]), seal)

    def last_seal(self, family_id: str) -> Document | None:
        return max(self.seals(family_id), key=lambda d: int(d["seal"]), default=None)

    def seals(self, family_id: str) -> Iterator[Document]:
        found = [d for d in self.documents.all(family_id) if _seal(d)]
        return iter(sorted(found, key=lambda d: int(d["seal"])))

    def stray_ids(self, family_id: str) -> Iterator[str]:
        return (
            str(d["id"]) for d in self.documents.all(family_id) if not _event(d) and not _seal(d)
        )

    def sealer_cursor(self) -> Document | None:
        return self.documents.read(*CURSOR)

    def move_sealer_cursor(self, through: int, etag: str | None) -> None:
        partition, cursor_id = CURSOR
        document = {"id": cursor_id, "familyId": partition, "through": through}
        try:
            if etag is None:
                self.documents.create(partition, document)
            else:
                self.documents.replace(partition, document, etag)
        except (AlreadyExistsError, VersionMismatchError, MissingError):
            return

    # --- the whole partition ------------------------------------------------------------------

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
        """Every event of the family, in the order written (for assertions)."""
        return [d for d in self.documents.all(family_id) if _event(d)]


class InMemoryAnchors:
    """Lines appended per family and month; nothing here changes or removes one."""

    def __init__(self) -> None:
        self._lines: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def append(self, family_id: str, month: str, line: Mapping[str, Any]) -> None:
        with self._lock:
            self._lines.setdefault((family_id, month), []).append(copy.deepcopy(dict(line)))

    def months(self, family_id: str) -> list[str]:
        with self._lock:
            return sorted(month for family, month in self._lines if family == family_id)

    def lines(self, family_id: str, month: str) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._lines.get((family_id, month), []))
