"""``PartnerGrants`` on the Cosmos DB ``records`` container, where grants live in their family's
partition. A partner's grants are found with one query across partitions (the partner's ``oid``
and ``tid`` are indexed, as every path of the container is)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.adapters.cosmos_query import query_all
from shared.grants import GRANT_TYPE
from shared.ports.records import Document
from shared.storage_layout import RECORDS

if TYPE_CHECKING:
    from shared.adapters.cosmos import ContainerProxy, DatabaseProxy


class CosmosPartnerGrants:
    def __init__(self, container: ContainerProxy) -> None:
        self._container = container

    @classmethod
    def from_database(cls, database: DatabaseProxy) -> CosmosPartnerGrants:
        return cls(database.get_container_client(RECORDS.name))

    def active_of(self, tenant_id: str, object_id: str, now: str) -> list[Document]:
        return query_all(
            self._container,
            "SELECT * FROM c WHERE c.type = @type AND c.partnerOid = @oid AND c.partnerTid = @tid "
            "AND c.deleted = false AND NOT IS_DEFINED(c.revokedAt) AND c.expiresAt > @now",
            {"@type": GRANT_TYPE, "@oid": object_id, "@tid": tenant_id, "@now": now},
        )
