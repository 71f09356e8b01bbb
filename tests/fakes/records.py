"""``RecordStore`` in memory: the ``records`` container, one partition per family."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from shared.access import ALWAYS_VISIBLE_TO_FAMILY, ALWAYS_VISIBLE_TO_PARTNERS, PARTNER_VISIBILITIES
from shared.grants import GRANT_TYPE
from shared.ports.errors import AlreadyExistsError, MissingError, VersionMismatchError
from shared.ports.records import (
    CHRONOLOGY_FIELDS,
    CHRONOLOGY_TYPES,
    SIGNIFICANT_TYPES,
    Document,
    Listing,
    QueryPage,
    Reach,
)
from tests.fakes.documents import Documents, page_of, pages_of, store_order, text, utc_now

MEMBER_FIELDS = ("id", "child", "dateOfBirth", "dateOfDeath", "deleted")
SYNC_FIELDS = (
    "id",
    "type",
    "familyId",
    "_etag",
    "everShared",
    "everPartners",
    "targetType",
    "visibility",
    "deleted",
)


def newest(doc: Document) -> tuple[Any, ...]:
    return (text(doc.get("createdAt")), text(doc.get("id")))


def live(doc: Document) -> bool:
    return doc.get("deleted") is False


def member_may_see(doc: Document, member_id: str) -> bool:
    return live(doc) and (
        doc.get("type") in ("member", "visit")
        or doc.get("visibility") == "family"
        or (doc.get("type") in ("notification", "safetyAlert") and doc.get("memberId") == member_id)
        or doc.get("type") == GRANT_TYPE
    )


def project(doc: Document, fields: Sequence[str]) -> Document:
    return {name: doc[name] for name in fields if name in doc}


class InMemoryRecords:
    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self.documents = Documents(clock)

    # --- one record ---------------------------------------------------------------------------

    def read(self, family_id: str, record_id: str) -> Document | None:
        return self.documents.read(family_id, record_id)

    def create(self, document: Document) -> Document:
        try:
            return self.documents.create(str(document["familyId"]), document)
        except AlreadyExistsError:
            raise AlreadyExistsError(self.read(document["familyId"], document["id"])) from None

    def replace(self, document: Document, etag: str) -> Document:
        try:
            return self.documents.replace(str(document["familyId"]), document, etag)
        except VersionMismatchError:
            raise VersionMismatchError(self.read(document["familyId"], document["id"])) from None

    def delete(self, family_id: str, record_id: str) -> bool:
        try:
            self.documents.delete(family_id, record_id)
        except MissingError:
            return False
        return True

    # --- within one family --------------------------------------------------------------------

    def list_page(self, listing: Listing, limit: int, continuation: str | None) -> QueryPage:
        def wanted(doc: Document) -> bool:
            if doc.get("type") != listing.record_type:
                return False
            if listing.live and not live(doc):
                return False
            shared = (
                doc.get("type") in ALWAYS_VISIBLE_TO_FAMILY or doc.get("visibility") == "family"
            )
            if listing.family_view and not shared:
                return False
            with_partners = (
                doc.get("type") in ALWAYS_VISIBLE_TO_PARTNERS
                or doc.get("visibility") in PARTNER_VISIBILITIES
            )
            if listing.partner_view and not with_partners:
                return False
            if any(doc.get(name) != value for name, value in listing.equal):
                return False
            return all(name in doc and doc[name] != value for name, value in listing.unequal)

        rows = [d for d in self.documents.all(listing.family_id) if wanted(d)]
        return page_of(rows, newest, limit, continuation, descending=listing.newest_first)

    def comments_shown_otherwise(
        self, family_id: str, target_id: str, visibility: Any
    ) -> list[Document]:
        return [
            d
            for d in self.documents.all(family_id)
            if d.get("type") == "comment"
            and d.get("targetId") == target_id
            and "visibility" in d
            and d["visibility"] != visibility
        ]

    def members(self, family_id: str) -> list[Document]:
        found = self.documents.all(family_id)
        return [project(d, MEMBER_FIELDS) for d in found if d.get("type") == "member" and live(d)]

    def record_types(self, family_id: str) -> Iterator[str]:
        return (str(d.get("type")) for d in self.documents.all(family_id))

    def ids_page(self, family_id: str, limit: int, keep: str | None = None) -> list[str]:
        ids = [str(d["id"]) for d in self.documents.all(family_id) if d["id"] != keep]
        return ids[:limit]

    def about_visit(self, family_id: str, visit_id: str) -> list[Document]:
        return [
            d
            for d in self.documents.all(family_id)
            if live(d)
            and (
                d.get("type") == "member"
                or (d.get("visitId") == visit_id and d.get("type") in ("note", "agenda", "plan"))
            )
        ]

    def chronology_rows(self, family_id: str) -> list[Document]:
        return [
            project(d, CHRONOLOGY_FIELDS)
            for d in self.documents.all(family_id)
            if live(d)
            and (
                d.get("type") in CHRONOLOGY_TYPES
                or (d.get("significant") is True and d.get("type") in SIGNIFICANT_TYPES)
            )
        ]

    # --- families -----------------------------------------------------------------------------

    def families(self, reach: Reach) -> list[Document]:
        return [d for d in self.documents.all() if _reached(reach, d)]

    def families_page(self, reach: Reach, limit: int, continuation: str | None) -> QueryPage:
        return page_of(self.families(reach), newest, limit, continuation, descending=True)

    # --- export -------------------------------------------------------------------------------

    def export_pages(
        self, family_id: str, member_id: str | None, page_size: int, continuation: str | None
    ) -> Iterator[QueryPage]:
        rows = [
            d
            for d in self.documents.all(family_id)
            if d["id"] != family_id and (member_id is None or member_may_see(d, member_id))
        ]
        return pages_of(rows, store_order, page_size, continuation)

    def visible_to_member(self, family_id: str, ids: Sequence[str], member_id: str) -> set[str]:
        wanted = set(ids)
        return {
            str(d["id"])
            for d in self.documents.all(family_id)
            if d["id"] in wanted and member_may_see(d, member_id)
        }

    # --- sync ---------------------------------------------------------------------------------

    def snapshot_page(
        self, family_ids: Sequence[str], limit: int, continuation: str | None
    ) -> QueryPage:
        rows = [d for d in self.documents.all() if d.get("familyId") in family_ids]
        return page_of(rows, store_order, limit, continuation)

    def changes(
        self,
        family_ids: Sequence[str],
        types: Sequence[str],
        since: int,
        after: tuple[int, str] | None,
        top: int,
    ) -> list[Document]:
        def key(doc: Document) -> tuple[int, str]:
            return (int(doc["_ts"]), str(doc["id"]))

        rows = [
            d
            for d in self.documents.all()
            if d.get("familyId") in family_ids
            and d.get("type") in types
            and (key(d) > after if after is not None else int(d["_ts"]) >= since)
        ]
        return sorted(rows, key=key)[:top]

    def sync_rows(self, family_id: str, types: Sequence[str]) -> list[Document]:
        found = self.documents.all(family_id)
        return [project(d, SYNC_FIELDS) for d in found if d.get("type") in types]

    # --- across a caller's families -----------------------------------------------------------

    def unacknowledged_words(
        self, family_ids: Sequence[str], created_before: str, limit: int, continuation: str | None
    ) -> QueryPage:
        rows = [
            d
            for d in self.documents.all()
            if d.get("type") == "words"
            and d.get("familyId") in family_ids
            and live(d)
            and not isinstance(d.get("acknowledgedAt"), str)
            and text(d.get("createdAt")) <= created_before
        ]
        return page_of(rows, newest, limit, continuation)

    # --- timers -------------------------------------------------------------------------------

    def alerts_to_follow_up(self, now: str) -> list[Document]:
        return [
            d
            for d in self.documents.all()
            if d.get("type") == "safetyAlert"
            and isinstance(d.get("followUpAt"), str)
            and d["followUpAt"] <= now
        ]

    def media_to_recheck(self, now: str) -> list[Document]:
        return [
            {"familyId": d["familyId"], "id": d["id"]}
            for d in self.documents.all()
            if d.get("type") == "media"
            and live(d)
            and d.get("status") == "processing"
            and isinstance((d.get("processing") or {}).get("recheckAt"), str)
            and d["processing"]["recheckAt"] <= now
        ]

    def purgeable_tombstones(self, written_before: int) -> Iterator[Document]:
        for d in self.documents.all():
            if (
                d.get("deleted") is True
                and d.get("deletedAsDraft") is True
                and d.get("type") != "family"
                and int(d["_ts"]) < written_before
            ):
                yield {"id": d["id"], "familyId": d["familyId"]}

    def families_past_retention(self, today: date) -> Iterator[Document]:
        for d in self.documents.all():
            until = d.get("retainUntil")
            due = isinstance(until, str) and until < today.isoformat()
            if d.get("type") == "family" and live(d) and due:
                yield d

    def families_to_destroy(self, now: str) -> Iterator[Document]:
        for d in self.documents.all():
            after = (d.get("disposal") or {}).get("destroyAfter")
            withdrawn = d.get("type") == "family" and d.get("deleted") is True
            if withdrawn and isinstance(after, str) and after <= now:
                yield d


def _reached(reach: Reach, doc: Document) -> bool:
    if doc.get("type") != "family" or not live(doc):
        return False
    if reach.family_ids:
        return doc["id"] in reach.family_ids
    if reach.everyone:
        return True
    if reach.worker_id is not None and reach.worker_id in (doc.get("workerIds") or []):
        return True
    return bool(reach.team_ids) and doc.get("teamId") in reach.team_ids
