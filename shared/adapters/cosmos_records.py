"""``RecordStore`` on the Cosmos DB ``records`` container (partitioned by ``/familyId``).

Queries name the family (one logical partition) wherever they can; the few across families
(a caller's families, sync, the timers) say so. A record type in a query is always one of the
code's own constants.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from shared.access import ALWAYS_VISIBLE_TO_FAMILY, ALWAYS_VISIBLE_TO_PARTNERS, PARTNER_VISIBILITIES
from shared.adapters.cosmos_query import (
    family_ids_page,
    first_page,
    pages,
    query,
    query_all,
)
from shared.adapters.faults import COSMOS_DB, translated
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
from shared.records.store import SYSTEM_FIELDS
from shared.storage_layout import RECORDS

if TYPE_CHECKING:
    from shared.adapters.cosmos import ContainerProxy, DatabaseProxy

PAGE_SIZE = 100
CHRONOLOGY_PAGE = 5000  # a family's chronology rows in one page: one request for most families
SHARED_WITH_FAMILY = "(c.type IN ({types}) OR c.visibility = 'family')".format(
    types=", ".join(f"'{t}'" for t in sorted(ALWAYS_VISIBLE_TO_FAMILY))
)
SHARED_WITH_PARTNERS = "(c.type IN ({types}) OR c.visibility IN ({shown}))".format(
    types=", ".join(f"'{t}'" for t in sorted(ALWAYS_VISIBLE_TO_PARTNERS)),
    shown=", ".join(f"'{v}'" for v in PARTNER_VISIBILITIES),
)
MEMBER_MAY_SEE = (
    "c.deleted = false AND (c.type IN ('member', 'visit') OR c.visibility = 'family' "
    f"OR (c.type IN ('notification', 'safetyAlert') AND c.memberId = @memberId) "
    f"OR c.type = '{GRANT_TYPE}')"
)


def type_list(types: Sequence[str]) -> str:
    return ", ".join(f"'{t}'" for t in types)


class CosmosRecords:
    def __init__(self, container: ContainerProxy) -> None:
        self._container = container

    @classmethod
    def from_database(cls, database: DatabaseProxy) -> CosmosRecords:
        return cls(database.get_container_client(RECORDS.name))

    # --- one record ---------------------------------------------------------------------------

    def read(self, family_id: str, record_id: str) -> Document | None:
        try:
            with translated(COSMOS_DB):
                document: Document = self._container.read_item(record_id, family_id)
        except MissingError:
            return None
        return document

    def create(self, document: Document) -> Document:
        try:
            with translated(COSMOS_DB):
                created: Document = self._container.create_item(document)
        except AlreadyExistsError:
            raise AlreadyExistsError(self.read(document["familyId"], document["id"])) from None
        return created

    def replace(self, document: Document, etag: str) -> Document:
        from azure.core import MatchConditions

        body = {k: v for k, v in document.items() if k not in SYSTEM_FIELDS}
        try:
            with translated(COSMOS_DB):
                replaced: Document = self._container.replace_item(
                    document["id"], body, etag=etag, match_condition=MatchConditions.IfNotModified
                )
        except VersionMismatchError:
            raise VersionMismatchError(self.read(document["familyId"], document["id"])) from None
        return replaced

    def delete(self, family_id: str, record_id: str) -> bool:
        try:
            with translated(COSMOS_DB):
                self._container.delete_item(record_id, partition_key=family_id)
        except MissingError:
            return False
        return True

    # --- within one family --------------------------------------------------------------------

    def list_page(self, listing: Listing, limit: int, continuation: str | None) -> QueryPage:
        clauses = ["c.type = @type"]
        parameters: dict[str, Any] = {"@familyId": listing.family_id, "@type": listing.record_type}
        if listing.live:
            clauses.append("c.deleted = false")
        if listing.family_view:
            clauses.append(SHARED_WITH_FAMILY)
        if listing.partner_view:
            clauses.append(SHARED_WITH_PARTNERS)
        for name, value in listing.equal:
            clauses.append(f"c.{name} = @{name}")
            parameters[f"@{name}"] = value
        for name, value in listing.unequal:
            clauses.append(f"c.{name} != @{name}")
            parameters[f"@{name}"] = value
        direction = "DESC" if listing.newest_first else "ASC"
        text = (
            f"SELECT * FROM c WHERE c.familyId = @familyId AND ({' AND '.join(clauses)}) "  # noqa: S608
            f"ORDER BY c.createdAt {direction}, c.id {direction}"
        )
        return first_page(self._container, text, parameters, listing.family_id, limit, continuation)

    def comments_shown_otherwise(
        self, family_id: str, target_id: str, visibility: Any
    ) -> list[Document]:
        return query_all(
            self._container,
            "SELECT * FROM c WHERE c.familyId = @familyId AND c.type = 'comment' "
            "AND c.targetId = @targetId AND c.visibility != @visibility",
            {"@familyId": family_id, "@targetId": target_id, "@visibility": visibility},
            family_id,
        )

    def members(self, family_id: str) -> list[Document]:
        return query_all(
            self._container,
            "SELECT c.id, c.child, c.dateOfBirth, c.dateOfDeath, c.deleted FROM c "
            "WHERE c.familyId = @familyId AND c.type = 'member' AND c.deleted = false",
            {"@familyId": family_id},
            family_id,
        )

    def record_types(self, family_id: str) -> Iterator[str]:
        rows = query(
            self._container,
            "SELECT VALUE c.type FROM c WHERE c.familyId = @familyId",
            {"@familyId": family_id},
            family_id,
            PAGE_SIZE,
        )
        return (str(row) for row in rows)

    def ids_page(self, family_id: str, limit: int, keep: str | None = None) -> list[str]:
        return family_ids_page(self._container, family_id, limit, keep)

    def about_visit(self, family_id: str, visit_id: str) -> list[Document]:
        return query_all(
            self._container,
            "SELECT * FROM c WHERE c.familyId = @familyId AND c.deleted = false AND "
            "(c.type = 'member' OR "
            "(c.visitId = @visitId AND c.type IN ('note', 'agenda', 'plan')))",
            {"@familyId": family_id, "@visitId": visit_id},
            family_id,
        )

    def chronology_rows(self, family_id: str) -> list[Document]:
        fields = ", ".join(f"c.{name}" for name in CHRONOLOGY_FIELDS)
        text = (
            f"SELECT {fields} FROM c WHERE c.familyId = @familyId AND c.deleted = false "  # noqa: S608
            f"AND (c.type IN ({type_list(CHRONOLOGY_TYPES)}) OR "
            f"(c.significant = true AND c.type IN ({type_list(SIGNIFICANT_TYPES)})))"
        )
        return list(
            query(self._container, text, {"@familyId": family_id}, family_id, CHRONOLOGY_PAGE)
        )

    # --- families -----------------------------------------------------------------------------

    def families(self, reach: Reach) -> list[Document]:
        condition = _reach(reach)
        if condition is None:
            return []
        text = (
            "SELECT * FROM c WHERE c.type = 'family' AND c.deleted = false "  # noqa: S608
            f"AND ({condition[0]})"
        )
        return query_all(self._container, text, condition[1])

    def families_page(self, reach: Reach, limit: int, continuation: str | None) -> QueryPage:
        condition = _reach(reach)
        if condition is None:
            return QueryPage([], None)
        text = (
            "SELECT * FROM c WHERE c.type = 'family' AND c.deleted = false "  # noqa: S608
            f"AND ({condition[0]}) ORDER BY c.createdAt DESC, c.id DESC"
        )
        return first_page(self._container, text, condition[1], None, limit, continuation)

    # --- export -------------------------------------------------------------------------------

    def export_pages(
        self, family_id: str, member_id: str | None, page_size: int, continuation: str | None
    ) -> Iterator[QueryPage]:
        text = "SELECT * FROM c WHERE c.familyId = @familyId AND c.id != @familyId"
        parameters: dict[str, Any] = {"@familyId": family_id}
        if member_id is not None:
            text += f" AND {MEMBER_MAY_SEE}"
            parameters["@memberId"] = member_id
        return pages(self._container, text, parameters, family_id, page_size, continuation)

    def visible_to_member(self, family_id: str, ids: Sequence[str], member_id: str) -> set[str]:
        wanted = sorted(ids)
        if not wanted:
            return set()
        rows = query_all(
            self._container,
            "SELECT VALUE c.id FROM c WHERE c.familyId = @familyId "  # noqa: S608
            f"AND ARRAY_CONTAINS(@ids, c.id) AND {MEMBER_MAY_SEE}",
            {"@familyId": family_id, "@ids": wanted, "@memberId": member_id},
            family_id,
        )
        return {str(row) for row in rows}

    # --- sync ---------------------------------------------------------------------------------

    def snapshot_page(
        self, family_ids: Sequence[str], limit: int, continuation: str | None
    ) -> QueryPage:
        return first_page(
            self._container,
            "SELECT * FROM c WHERE ARRAY_CONTAINS(@families, c.familyId)",
            {"@families": list(family_ids)},
            None,
            limit,
            continuation,
        )

    def changes(
        self,
        family_ids: Sequence[str],
        types: Sequence[str],
        since: int,
        after: tuple[int, str] | None,
        top: int,
    ) -> list[Document]:
        where = ["ARRAY_CONTAINS(@families, c.familyId)", f"c.type IN ({type_list(types)})"]
        parameters: dict[str, Any] = {"@families": list(family_ids), "@top": top}
        if after is None:
            where.append("c._ts >= @from")
            parameters["@from"] = since
        else:
            where.append("(c._ts > @ts OR (c._ts = @ts AND c.id > @id))")
            parameters |= {"@ts": int(after[0]), "@id": str(after[1])}
        text = (
            f"SELECT TOP @top * FROM c WHERE {' AND '.join(where)} "  # noqa: S608
            "ORDER BY c._ts ASC, c.id ASC"
        )
        return query_all(self._container, text, parameters)

    def sync_rows(self, family_id: str, types: Sequence[str]) -> list[Document]:
        return query_all(
            self._container,
            "SELECT c.id, c.type, c.familyId, c._etag, c.everShared, c.everPartners, "  # noqa: S608
            "c.targetType, c.visibility, c.deleted FROM c "
            f"WHERE c.familyId = @f AND c.type IN ({type_list(types)})",
            {"@f": family_id},
            family_id,
        )

    # --- across a caller's families -----------------------------------------------------------

    def unacknowledged_words(
        self, family_ids: Sequence[str], created_before: str, limit: int, continuation: str | None
    ) -> QueryPage:
        if not family_ids:
            return QueryPage([], None)
        return first_page(
            self._container,
            "SELECT * FROM c WHERE c.type = 'words' AND ARRAY_CONTAINS(@families, c.familyId) "
            "AND c.deleted = false AND NOT IS_STRING(c.acknowledgedAt) "
            "AND c.createdAt <= @before ORDER BY c.createdAt ASC, c.id ASC",
            {"@families": list(family_ids), "@before": created_before},
            None,
            limit,
            continuation,
        )

    # --- timers -------------------------------------------------------------------------------

    def alerts_to_follow_up(self, now: str) -> list[Document]:
        return query_all(
            self._container,
            "SELECT * FROM c WHERE c.type = 'safetyAlert' AND IS_STRING(c.followUpAt) "
            "AND c.followUpAt <= @now",
            {"@now": now},
        )

    def media_to_recheck(self, now: str) -> list[Document]:
        return query_all(
            self._container,
            "SELECT c.familyId, c.id FROM c WHERE c.type = 'media' AND c.deleted = false "
            "AND c.status = 'processing' AND c.processing.recheckAt <= @now",
            {"@now": now},
        )

    def purgeable_tombstones(self, written_before: int) -> Iterator[Document]:
        return query(
            self._container,
            "SELECT c.id, c.familyId FROM c WHERE c.deleted = true AND c.deletedAsDraft = true "
            "AND c.type != 'family' AND c._ts < @cutoff",
            {"@cutoff": written_before},
            page_size=PAGE_SIZE,
        )

    def families_past_retention(self, today: date) -> Iterator[Document]:
        return query(
            self._container,
            "SELECT * FROM c WHERE c.type = 'family' AND c.deleted = false "
            "AND IS_STRING(c.retainUntil) AND c.retainUntil < @today",
            {"@today": today.isoformat()},
            page_size=PAGE_SIZE,
        )

    def families_to_destroy(self, now: str) -> Iterator[Document]:
        return query(
            self._container,
            "SELECT * FROM c WHERE c.type = 'family' AND c.deleted = true "
            "AND IS_STRING(c.disposal.destroyAfter) AND c.disposal.destroyAfter <= @now",
            {"@now": now},
            page_size=PAGE_SIZE,
        )


def _reach(reach: Reach) -> tuple[str, dict[str, Any]] | None:
    if reach.family_ids:
        return "ARRAY_CONTAINS(@ids, c.id)", {"@ids": list(reach.family_ids)}
    if reach.everyone:
        return "true", {}
    clauses: list[str] = []
    parameters: dict[str, Any] = {}
    if reach.worker_id is not None:
        clauses.append("ARRAY_CONTAINS(c.workerIds, @oid)")
        parameters["@oid"] = reach.worker_id
    if reach.team_ids:
        clauses.append("ARRAY_CONTAINS(@teams, c.teamId)")
        parameters["@teams"] = list(reach.team_ids)
    if not clauses:
        return None
    return " OR ".join(clauses), parameters
