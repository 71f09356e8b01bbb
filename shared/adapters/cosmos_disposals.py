"""``Disposals`` on the Cosmos DB ``disposals`` container (partitioned by ``/id``, the family's)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from shared.adapters.cosmos_query import first_page, query
from shared.adapters.faults import COSMOS_DB, translated
from shared.ports.errors import MissingError
from shared.ports.records import Document, QueryPage
from shared.storage_layout import DISPOSALS

if TYPE_CHECKING:
    from shared.adapters.cosmos import ContainerProxy, DatabaseProxy

PAGE_SIZE = 100


class CosmosDisposals:
    def __init__(self, container: ContainerProxy) -> None:
        self._container = container

    @classmethod
    def from_database(cls, database: DatabaseProxy) -> CosmosDisposals:
        return cls(database.get_container_client(DISPOSALS.name))

    def read(self, family_id: str) -> Document | None:
        try:
            with translated(COSMOS_DB):
                document: Document = self._container.read_item(family_id, family_id)
        except MissingError:
            return None
        return document

    def create(self, certificate: Document) -> Document:
        with translated(COSMOS_DB):
            created: Document = self._container.create_item(certificate)
        return created

    def replace(self, certificate: Document, etag: str) -> Document:
        from azure.core import MatchConditions

        body = {k: v for k, v in certificate.items() if not k.startswith("_")}
        with translated(COSMOS_DB):
            replaced: Document = self._container.replace_item(
                certificate["id"], body, etag=etag, match_condition=MatchConditions.IfNotModified
            )
        return replaced

    def in_progress(self) -> Iterator[Document]:
        return query(
            self._container,
            "SELECT * FROM c WHERE c.status = 'destroying'",
            {},
            page_size=PAGE_SIZE,
        )

    def newest_first(self, limit: int, continuation: str | None) -> QueryPage:
        return first_page(
            self._container,
            "SELECT * FROM c WHERE c.type = 'disposalCertificate' ORDER BY c.destroyStartedAt DESC",
            {},
            None,
            limit,
            continuation,
        )
