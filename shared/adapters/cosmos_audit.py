"""``AuditStore`` on the Cosmos DB ``audit`` container (partitioned by ``/familyId``).

Events and seals share the family's partition; ``type`` tells them apart (``audit``,
``auditSeal``). A seal's id derives from its family and number, and Cosmos DB keeps ids unique
within a partition, so a second writer of seal ``n`` gets 409. The sealer's cursor is one
document in a partition of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from shared.adapters.cosmos_query import (
    family_ids_page,
    first_page,
    pages,
    query,
    query_all,
)
from shared.adapters.faults import COSMOS_DB, translated
from shared.ports.errors import AlreadyExistsError, MissingError, VersionMismatchError
from shared.ports.records import Document, QueryPage
from shared.storage_layout import AUDIT

if TYPE_CHECKING:
    from shared.adapters.cosmos import ContainerProxy, DatabaseProxy

SEAL_PAGE_SIZE = 100
CURSOR_PARTITION = "audit-sealer"
CURSOR_ID = "cursor"


class CosmosAudit:
    def __init__(self, container: ContainerProxy) -> None:
        self._container = container

    @classmethod
    def from_database(cls, database: DatabaseProxy) -> CosmosAudit:
        return cls(database.get_container_client(AUDIT.name))

    # --- events -------------------------------------------------------------------------------

    def append(self, event: Document) -> Document:
        with translated(COSMOS_DB):
            created: Document = self._container.create_item(event)
        return created

    def event(self, family_id: str, event_id: str) -> Document | None:
        return self._read(family_id, event_id)

    def events_between(
        self, family_id: str, after: int, through: int | None, limit: int | None = None
    ) -> list[Document]:
        text = "SELECT TOP @limit * FROM c" if limit is not None else "SELECT * FROM c"
        text += " WHERE c.familyId = @familyId AND c.type = 'audit' AND c._ts > @after"
        parameters: dict[str, Any] = {"@familyId": family_id, "@after": after}
        if limit is not None:
            parameters["@limit"] = limit
        if through is not None:
            text += " AND c._ts <= @through"
            parameters["@through"] = through
        return query_all(self._container, text + " ORDER BY c._ts ASC", parameters, family_id)

    def count_events_after(self, family_id: str, after: int) -> int:
        rows = query_all(
            self._container,
            "SELECT VALUE COUNT(1) FROM c WHERE c.familyId = @familyId AND c.type = 'audit' "
            "AND c._ts > @after",
            {"@familyId": family_id, "@after": after},
            family_id,
        )
        return int(rows[0]) if rows else 0

    def families_with_events(self, after: int, through: int) -> list[str]:
        """One row per event, made distinct here: the local emulator has no ``DISTINCT``. The
        window is one sealing interval, so the rows are that interval's events."""
        rows = query(
            self._container,
            "SELECT VALUE c.familyId FROM c WHERE c.type = 'audit' "
            "AND c._ts > @after AND c._ts <= @through",
            {"@after": after, "@through": through},
        )
        return sorted({str(row) for row in rows})

    def page(self, family_id: str, limit: int, continuation: str | None) -> QueryPage:
        return first_page(
            self._container,
            "SELECT * FROM c WHERE c.familyId = @familyId AND c.type = 'audit' "
            "ORDER BY c.at DESC, c.id DESC",
            {"@familyId": family_id},
            family_id,
            limit,
            continuation,
        )

    def export_pages(
        self,
        family_id: str,
        actor: tuple[str, str] | None,
        page_size: int,
        continuation: str | None,
    ) -> Iterator[QueryPage]:
        text = "SELECT * FROM c WHERE c.familyId = @familyId AND c.type = 'audit'"
        parameters: dict[str, Any] = {"@familyId": family_id}
        if actor is not None:
            text += " AND c.actor.oid = @oid AND c.actor.tid = @tid"
            parameters |= {"@oid": actor[1], "@tid": actor[0]}
        return pages(self._container, text, parameters, family_id, page_size, continuation)

    # --- seals --------------------------------------------------------------------------------

    def add_seal(self, seal: Document) -> Document:
        with translated(COSMOS_DB):
            created: Document = self._container.create_item(seal)
        return created

    def last_seal(self, family_id: str) -> Document | None:
        rows = query_all(
            self._container,
            "SELECT TOP 1 * FROM c WHERE c.familyId = @familyId AND c.type = 'auditSeal' "
            "ORDER BY c.seal DESC",
            {"@familyId": family_id},
            family_id,
        )
        return rows[0] if rows else None

    def seals(self, family_id: str) -> Iterator[Document]:
        for page in pages(
            self._container,
            "SELECT * FROM c WHERE c.familyId = @familyId AND c.type = 'auditSeal' "
            "ORDER BY c.seal ASC",
            {"@familyId": family_id},
            family_id,
            SEAL_PAGE_SIZE,
            None,
        ):
            yield from page.items

    def stray_ids(self, family_id: str) -> Iterator[str]:
        rows = query(
            self._container,
            "SELECT VALUE c.id FROM c WHERE c.familyId = @familyId "
            "AND c.type != 'audit' AND c.type != 'auditSeal'",
            {"@familyId": family_id},
            family_id,
        )
        return (str(row) for row in rows)

    def sealer_cursor(self) -> Document | None:
        return self._read(CURSOR_PARTITION, CURSOR_ID)

    def move_sealer_cursor(self, through: int, etag: str | None) -> None:
        from azure.core import MatchConditions

        document = {
            "id": CURSOR_ID,
            "familyId": CURSOR_PARTITION,
            "type": "auditSealerCursor",
            "through": through,
        }
        try:
            with translated(COSMOS_DB):
                if etag is None:
                    self._container.create_item(document)
                else:
                    unchanged = MatchConditions.IfNotModified
                    self._container.replace_item(
                        CURSOR_ID, document, etag=etag, match_condition=unchanged
                    )
        except (AlreadyExistsError, VersionMismatchError, MissingError):
            return

    # --- the whole partition ------------------------------------------------------------------

    def count(self, family_id: str) -> int:
        rows = query_all(
            self._container,
            "SELECT VALUE COUNT(1) FROM c WHERE c.familyId = @familyId",
            {"@familyId": family_id},
            family_id,
        )
        return int(rows[0]) if rows else 0

    def ids_page(self, family_id: str, limit: int, keep: str | None = None) -> list[str]:
        return family_ids_page(self._container, family_id, limit, keep)

    def delete(self, family_id: str, event_id: str) -> bool:
        try:
            with translated(COSMOS_DB):
                self._container.delete_item(event_id, partition_key=family_id)
        except MissingError:
            return False
        return True

    def _read(self, partition: str, item_id: str) -> Document | None:
        try:
            with translated(COSMOS_DB):
                found: Document = self._container.read_item(item_id, partition_key=partition)
        except MissingError:
            return None
        return found
