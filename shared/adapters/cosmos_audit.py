"""``AuditStore`` on the Cosmos DB ``audit`` container (partitioned by ``/familyId``).

Cosmos DB keeps ids unique within a partition, and an event's id is derived from its family and
``seq``, so a second writer of event ``n`` gets 409: the chain cannot fork.
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
from shared.ports.errors import MissingError
from shared.ports.records import Document, QueryPage
from shared.storage_layout import AUDIT

if TYPE_CHECKING:
    from shared.adapters.cosmos import ContainerProxy, DatabaseProxy

CHAIN_PAGE_SIZE = 500


class CosmosAudit:
    def __init__(self, container: ContainerProxy) -> None:
        self._container = container

    @classmethod
    def from_database(cls, database: DatabaseProxy) -> CosmosAudit:
        return cls(database.get_container_client(AUDIT.name))

    def append(self, event: Document) -> Document:
        with translated(COSMOS_DB):
            created: Document = self._container.create_item(event)
        return created

    def head(self, family_id: str) -> tuple[int, str] | None:
        rows = query_all(
            self._container,
            "SELECT TOP 1 c.seq, c.hash FROM c WHERE c.familyId = @familyId "
            "AND c.type = 'audit' AND IS_NUMBER(c.seq) ORDER BY c.seq DESC",
            {"@familyId": family_id},
            family_id,
        )
        return (int(rows[0]["seq"]), str(rows[0]["hash"])) if rows else None

    def chained(self, family_id: str) -> Iterator[Document]:
        for page in pages(
            self._container,
            "SELECT * FROM c WHERE c.familyId = @familyId AND c.type = 'audit' "
            "AND IS_NUMBER(c.seq) ORDER BY c.seq ASC",
            {"@familyId": family_id},
            family_id,
            CHAIN_PAGE_SIZE,
            None,
        ):
            yield from page.items

    def unchained_ids(self, family_id: str) -> Iterator[str]:
        rows = query(
            self._container,
            "SELECT VALUE c.id FROM c WHERE c.familyId = @familyId "
            "AND (NOT IS_NUMBER(c.seq) OR c.type != 'audit')",
            {"@familyId": family_id},
            family_id,
        )
        return (str(row) for row in rows)

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
        text = "SELECT * FROM c WHERE c.familyId = @familyId"
        parameters: dict[str, Any] = {"@familyId": family_id}
        if actor is not None:
            text += " AND c.actor.oid = @oid AND c.actor.tid = @tid"
            parameters |= {"@oid": actor[1], "@tid": actor[0]}
        return pages(self._container, text, parameters, family_id, page_size, continuation)

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
