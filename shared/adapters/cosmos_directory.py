"""``Directory`` and ``Counters`` on the Cosmos DB ``directory`` container (partitioned by ``/id``).

Each document is read by its own id (the caller's ``tid``+``oid``, a code's hash), so every
lookup on a request path is a point read. The queries across partitions find the sign-ins
linked to a family (when staff list or revoke them), whether anyone belongs to a team, and the
staff list.

A counter is counted with a patch ``incr``, which Cosmos DB applies atomically and which
returns the count after it: one request per count, no read first. The first count of a window
finds no document (404) and creates it; a racing creator's 409 means patching again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.adapters.cosmos_query import first_page, query_all
from shared.adapters.faults import COSMOS_DB, translated
from shared.errors import DependencyUnavailableError
from shared.ports.errors import AlreadyExistsError, MissingError
from shared.ports.records import Document, QueryPage
from shared.storage_layout import DIRECTORY

if TYPE_CHECKING:
    from shared.adapters.cosmos import ContainerProxy, DatabaseProxy

CREATE_ATTEMPTS = 3


def _body(document: Document) -> Document:
    return {k: v for k, v in document.items() if not k.startswith("_")}


class CosmosDirectory:
    def __init__(self, container: ContainerProxy) -> None:
        self._container = container

    @classmethod
    def from_database(cls, database: DatabaseProxy) -> CosmosDirectory:
        return cls(database.get_container_client(DIRECTORY.name))

    def read(self, document_id: str) -> Document | None:
        try:
            with translated(COSMOS_DB):
                document: Document = self._container.read_item(document_id, document_id)
        except MissingError:
            return None
        return document

    def create(self, document: Document) -> Document:
        with translated(COSMOS_DB):
            created: Document = self._container.create_item(document)
        return created

    def upsert(self, document: Document) -> Document:
        with translated(COSMOS_DB):
            stored: Document = self._container.upsert_item(document)
        return stored

    def replace(self, document: Document, etag: str) -> Document:
        from azure.core import MatchConditions

        with translated(COSMOS_DB):
            replaced: Document = self._container.replace_item(
                document["id"],
                _body(document),
                etag=etag,
                match_condition=MatchConditions.IfNotModified,
            )
        return replaced

    def delete(self, document_id: str, etag: str) -> None:
        from azure.core import MatchConditions

        with translated(COSMOS_DB):
            self._container.delete_item(
                document_id,
                document_id,
                etag=etag,
                match_condition=MatchConditions.IfNotModified,
            )

    def sign_ins_of(self, family_id: str) -> list[Document]:
        return query_all(
            self._container,
            "SELECT * FROM c WHERE c.type = 'familylink' AND "
            "(ARRAY_CONTAINS(c.linkedFamilies, @family) OR NOT IS_DEFINED(c.linkedFamilies))",
            {"@family": family_id},
        )

    def team_has_staff(self, team_id: str) -> bool:
        page = first_page(
            self._container,
            "SELECT c.id FROM c WHERE c.type = 'staff' AND ARRAY_CONTAINS(c.teamIds, @team)",
            {"@team": team_id},
            None,
            1,
            None,
        )
        return bool(page.items)

    def team_staff(self, team_id: str) -> list[Document]:
        return query_all(
            self._container,
            "SELECT * FROM c WHERE c.type = 'staff' AND ARRAY_CONTAINS(c.teamIds, @team)",
            {"@team": team_id},
        )

    def staff_page(self, limit: int, continuation: str | None) -> QueryPage:
        return first_page(
            self._container,
            "SELECT * FROM c WHERE c.type = 'staff' ORDER BY c.id ASC",
            {},
            None,
            limit,
            continuation,
        )


class CosmosCounters:
    """Counters in a container partitioned by ``/id`` (the directory container)."""

    def __init__(self, container: ContainerProxy) -> None:
        self._container = container

    @classmethod
    def from_database(cls, database: DatabaseProxy) -> CosmosCounters:
        return cls(database.get_container_client(DIRECTORY.name))

    def add(self, counter_id: str, amount: int, ttl_seconds: int) -> int:
        increment = [{"op": "incr", "path": "/count", "value": amount}]
        for _ in range(CREATE_ATTEMPTS):
            try:
                with translated(COSMOS_DB):
                    patched = self._container.patch_item(counter_id, counter_id, increment)
                return int(patched["count"])
            except MissingError:
                pass
            document = {"id": counter_id, "type": "ratelimit", "count": amount, "ttl": ttl_seconds}
            try:
                with translated(COSMOS_DB):
                    self._container.create_item(document)
                return amount
            except AlreadyExistsError:
                continue
        raise DependencyUnavailableError("The rate limit counter", retry_after_seconds=1)
