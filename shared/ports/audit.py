"""What the audit log needs from its stores: append-only events and the seals over them, one
partition per family, and anchors kept where they cannot be rewritten.

An event is written once, by one ``create`` of a unique id, and never changed. A seal (written by
the sealer, off the request path) lists, in order and with their hashes, the events of one
family whose server timestamp ``_ts`` falls in ``(after, through]``; seal ``n`` carries the MAC
of seal ``n - 1``, so the seals form a chain. ``_ts`` is the second of a document's last write on
the database's own clock: no writer can set it, and an event changed after it was sealed moves
out of its seal's stretch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from shared.ports.records import Document, QueryPage

if TYPE_CHECKING:
    from shared.access import Caller


@dataclass(frozen=True)
class SealKey:
    """The secret audit seals are MACed with (``shared.audit_chain``); ``key_id`` names it in
    each seal without giving it away."""

    secret: bytes = field(repr=False)

    @property
    def key_id(self) -> str:
        return hashlib.sha256(b"familystory-audit-seal-key\n" + self.secret).hexdigest()[:16]


class AuditStore(Protocol):
    # --- events -------------------------------------------------------------------------------

    def append(self, event: Document) -> Document:
        """Store a new event; raises ``AlreadyExistsError`` when its id is taken."""
        ...

    def event(self, family_id: str, event_id: str) -> Document | None: ...

    def events_between(
        self, family_id: str, after: int, through: int | None, limit: int | None = None
    ) -> list[Document]:
        """The family's events with ``after < _ts <= through`` (no upper bound when None),
        oldest ``_ts`` first, at most ``limit``."""
        ...

    def count_events_after(self, family_id: str, after: int) -> int: ...

    def families_with_events(self, after: int, through: int) -> list[str]:
        """Every family (partition) holding an event with ``after < _ts <= through``."""
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

    # --- seals --------------------------------------------------------------------------------

    def add_seal(self, seal: Document) -> Document:
        """Store a new seal; raises ``AlreadyExistsError`` when its number is taken (its id is
        derived from the family and the number, so two sealers never both write seal ``n``)."""
        ...

    def last_seal(self, family_id: str) -> Document | None: ...

    def seals(self, family_id: str) -> Iterator[Document]:
        """The family's seals in number order, read a page at a time."""
        ...

    def stray_ids(self, family_id: str) -> Iterator[str]:
        """Ids of the family's documents that are neither events nor seals."""
        ...

    def sealer_cursor(self) -> Document | None:
        """Where the last complete sealing run stopped (``through``), with its ``_etag``."""
        ...

    def move_sealer_cursor(self, through: int, etag: str | None) -> None:
        """Record a complete run; a cursor moved meanwhile (``etag`` stale) is left alone."""
        ...

    # --- the whole partition (disposal) -------------------------------------------------------

    def count(self, family_id: str) -> int: ...

    def ids_page(self, family_id: str, limit: int, keep: str | None = None) -> list[str]: ...

    def delete(self, family_id: str, event_id: str) -> bool:
        """Delete one document (the family's disposal only); False when already gone."""
        ...


class AuditAnchors(Protocol):
    """One line per seal, appended where the database's writers cannot rewrite or remove it (an
    immutable blob container in Azure): one append-only file per family and month (a seal a
    minute all month long is 44,640 lines, within an append blob's 50,000 blocks)."""

    def append(self, family_id: str, month: str, line: Mapping[str, Any]) -> None: ...

    def months(self, family_id: str) -> list[str]:
        """The months (``YYYY-MM``) with anchors for the family, oldest first."""
        ...

    def lines(self, family_id: str, month: str) -> list[dict[str, Any]]: ...


class AuditTrail(Protocol):
    """What services record through: who did what to which family's record, and when.
    ``shared.audit.AuditLog`` writes each event to an ``AuditStore`` with one request."""

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
