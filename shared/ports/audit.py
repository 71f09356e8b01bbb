"""What the audit log needs from its store: append-only events, one partition per family.

An event's id is derived from its family and ``seq``, so ``append`` of an event whose ``seq`` is
taken fails (``AlreadyExistsError``): two writers can never both append event ``n``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from shared.ports.records import Document, QueryPage

if TYPE_CHECKING:
    from shared.access import Caller


class AuditStore(Protocol):
    def append(self, event: Document) -> Document:
        """Store a new event; raises ``AlreadyExistsError`` when its id is taken."""
        ...

    def head(self, family_id: str) -> tuple[int, str] | None:
        """``seq`` and ``hash`` of the family's last chained event."""
        ...

    def chained(self, family_id: str) -> Iterator[Document]:
        """The family's chained events in ``seq`` order, read a page at a time."""
        ...

    def unchained_ids(self, family_id: str) -> Iterator[str]:
        """Ids of the family's documents that are not chained audit events."""
        ...

    def page(self, family_id: str, limit: int, continuation: str | None) -> QueryPage:
        """The family's events, newest first."""
        ...

    def export_pages(
        self,
        family_id: str,
        actor: tuple[str, str] | None,
        page_size: int,
        continuation: str | None,
    ) -> Iterator[QueryPage]:
        """Every event of the family, or those of one actor (``tid``, ``oid``); pages from
        ``continuation`` on."""
        ...

    def count(self, family_id: str) -> int: ...

    def ids_page(self, family_id: str, limit: int, keep: str | None = None) -> list[str]: ...

    def delete(self, family_id: str, event_id: str) -> bool:
        """Delete one event (the family's disposal only); False when already gone."""
        ...


class AuditTrail(Protocol):
    """What services record through: who did what to which family's record, and when.
    ``shared.audit.AuditLog`` chains the events it writes to an ``AuditStore``."""

    def record(
        self,
        caller: Caller,
        action: str,
        family_id: str,
        record_type: str,
        record_id: str | None,
        outcome: str = "ok",
        detail: str | None = None,
    ) -> dict[str, Any]:
        """Write the event before the change it records; returns the stored event."""
        ...

    def record_each_family(
        self, caller: Caller, action: str, family_ids: list[str], record_type: str
    ) -> None:
        """One event per family (a list or sync page spanning families)."""
        ...

    def page(self, family_id: str, limit: int, continuation: str | None) -> QueryPage:
        """The family's events, newest first."""
        ...
