"""What the services need from the case-records store (one partition per family).

Every write is conditional: ``create`` fails when the id is taken, ``replace`` names the version
it read, so two racing writers can never both win. A page of a query carries an opaque
continuation for the next one (None on the last). Documents carry the store's ``_etag`` (their
version) and ``_ts`` (the second of their last write, on the server's clock).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

Document = dict[str, Any]

CHRONOLOGY_TYPES = ("member", "visit", "chronologyEvent")
SIGNIFICANT_TYPES = ("note", "plan", "media")
CHRONOLOGY_FIELDS = (
    "id",
    "type",
    "visibility",
    "createdAt",
    "significant",
    "displayName",
    "startsAt",
    "status",
    "location",
    "outcome",
    "visitId",
    "body",
    "title",
    "actions",
    "kind",
    "caption",
    "date",
    "category",
    "summary",
)


@dataclass(frozen=True)
class QueryPage:
    items: list[Document]
    continuation: str | None


@dataclass(frozen=True)
class Listing:
    """Records of one type in one family, oldest or newest first (by ``createdAt``, ``id``).

    ``live``: deleted ones left out. ``family_view``: only what a family member may see (the
    family, its members and visits, and records shared with the family). ``partner_view``: only
    what a partner agency may see of a kind their grant covers (visits, and records whose
    visibility is ``partners`` or ``family``). ``equal`` and ``unequal``: fields that must, or
    must not, have these values.
    """

    family_id: str
    record_type: str
    live: bool = True
    family_view: bool = False
    partner_view: bool = False
    equal: tuple[tuple[str, Any], ...] = ()
    unequal: tuple[tuple[str, Any], ...] = ()
    newest_first: bool = True


@dataclass(frozen=True)
class Reach:
    """The families a caller may see, as a condition on family documents: the families named
    (``family_ids``), every family (``everyone``), or those with ``worker_id`` among their
    workers or one of ``team_ids`` as their team."""

    family_ids: tuple[str, ...] = ()
    everyone: bool = False
    worker_id: str | None = None
    team_ids: tuple[str, ...] = ()


class RecordStore(Protocol):
    # --- one record ---------------------------------------------------------------------------

    def read(self, family_id: str, record_id: str) -> Document | None: ...

    def create(self, document: Document) -> Document:
        """Raises ``AlreadyExistsError`` carrying the document that holds the id."""
        ...

    def replace(self, document: Document, etag: str) -> Document:
        """Raises ``VersionMismatchError`` carrying the current document when ``etag`` is stale."""
        ...

    def delete(self, family_id: str, record_id: str) -> bool:
        """Delete the record; False when it was already gone."""
        ...

    # --- within one family --------------------------------------------------------------------

    def list_page(self, listing: Listing, limit: int, continuation: str | None) -> QueryPage: ...

    def comments_shown_otherwise(
        self, family_id: str, target_id: str, visibility: Any
    ) -> list[Document]:
        """Comments on ``target_id`` whose visibility is not ``visibility``."""
        ...

    def members(self, family_id: str) -> list[Document]:
        """The family's live members, with the fields that decide its retention."""
        ...

    def record_types(self, family_id: str) -> Iterator[str]:
        """The type of every document of the family, its own included."""
        ...

    def ids_page(self, family_id: str, limit: int, keep: str | None = None) -> list[str]:
        """Up to ``limit`` ids of the family's documents (but ``keep``)."""
        ...

    def about_visit(self, family_id: str, visit_id: str) -> list[Document]:
        """In one query: the family's live members, and its live notes, agendas and plans whose
        ``visitId`` is ``visit_id``."""
        ...

    def chronology_rows(self, family_id: str) -> list[Document]:
        """In one query, what a family's chronology is built from: its live members, visits and
        chronology events, and its live notes, plans and media marked ``significant``, each with
        only the fields a chronology shows (``CHRONOLOGY_FIELDS``)."""
        ...

    # --- families -----------------------------------------------------------------------------

    def families(self, reach: Reach) -> list[Document]:
        """Live family documents within ``reach``."""
        ...

    def families_page(self, reach: Reach, limit: int, continuation: str | None) -> QueryPage:
        """Live family documents within ``reach``, newest first."""
        ...

    # --- export -------------------------------------------------------------------------------

    def export_pages(
        self, family_id: str, member_id: str | None, page_size: int, continuation: str | None
    ) -> Iterator[QueryPage]:
        """Every document of the family but the family's own (``member_id`` None), or only what
        that member of the family may see (with the family's partner grants, which their export
        lists); pages from ``continuation`` on."""
        ...

    def visible_to_member(self, family_id: str, ids: Sequence[str], member_id: str) -> set[str]:
        """Of ``ids``, those the family's member ``member_id`` may see."""
        ...

    # --- sync ---------------------------------------------------------------------------------

    def snapshot_page(
        self, family_ids: Sequence[str], limit: int, continuation: str | None
    ) -> QueryPage:
        """Every document of these families, in the store's order."""
        ...

    def changes(
        self,
        family_ids: Sequence[str],
        types: Sequence[str],
        since: int,
        after: tuple[int, str] | None,
        top: int,
    ) -> list[Document]:
        """Documents of these types and families written at ``_ts >= since`` (or after the
        ``(_ts, id)`` key ``after``), in ``(_ts, id)`` order, at most ``top``."""
        ...

    def sync_rows(self, family_id: str, types: Sequence[str]) -> list[Document]:
        """``id``, ``type``, ``familyId``, ``_etag``, ``everShared``, ``everPartners``,
        ``targetType``, ``visibility`` and ``deleted`` of the family's records of these types,
        deleted ones included."""
        ...

    # --- across a caller's families -----------------------------------------------------------

    def unacknowledged_words(
        self, family_ids: Sequence[str], created_before: str, limit: int, continuation: str | None
    ) -> QueryPage:
        """Live words entries of these families created at or before ``created_before`` that
        nobody acknowledged, oldest first."""
        ...

    # --- timers -------------------------------------------------------------------------------

    def alerts_to_follow_up(self, now: str) -> list[Document]:
        """Safety alerts whose ``followUpAt`` is at or before ``now``, across families."""
        ...

    def media_to_recheck(self, now: str) -> list[Document]:
        """``familyId`` and ``id`` of live media ``processing`` with ``recheckAt <= now``."""
        ...

    def purgeable_tombstones(self, written_before: int) -> Iterator[Document]:
        """``id`` and ``familyId`` of deleted drafts (not families) with ``_ts`` before this."""
        ...

    def families_past_retention(self, today: date) -> Iterator[Document]:
        """Live families with a ``retainUntil`` before ``today``."""
        ...

    def families_to_destroy(self, now: str) -> Iterator[Document]:
        """Withdrawn families whose ``disposal.destroyAfter`` is at or before ``now``."""
        ...
