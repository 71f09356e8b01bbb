"""``Operations`` on the Cosmos DB ``operations`` container (partitioned by ``/id``, nothing
indexed, per-item TTL): one point operation each.

A claim is a conditional create (409 when the operation is claimed or done already); its result
replaces it. A family set is stored under its fingerprint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.adapters.faults import COSMOS_DB, translated
from shared.ports.errors import AlreadyExistsError, MissingError
from shared.storage_layout import OPERATIONS

if TYPE_CHECKING:
    from shared.adapters.cosmos import ContainerProxy, DatabaseProxy


class CosmosOperations:
    def __init__(self, container: ContainerProxy) -> None:
        self._container = container

    @classmethod
    def from_database(cls, database: DatabaseProxy) -> CosmosOperations:
        return cls(database.get_container_client(OPERATIONS.name))

    def claim(self, key: str, ttl_seconds: int) -> bool:
        try:
            with translated(COSMOS_DB):
                self._container.create_item({"id": key, "state": "in_progress", "ttl": ttl_seconds})
        except AlreadyExistsError:
            return False
        return True

    def complete(self, key: str, result: dict[str, Any], ttl_seconds: int) -> None:
        with translated(COSMOS_DB):
            self._container.upsert_item(
                {"id": key, "state": "done", "result": result, "ttl": ttl_seconds}
            )

    def release(self, key: str) -> None:
        with translated(COSMOS_DB):
            self._container.delete_item(key, key)

    def result(self, key: str) -> dict[str, Any] | None:
        document = self._read(key)
        if document is None:
            return None
        result = document.get("result")
        return dict(result) if document.get("state") == "done" and result else None

    def remember_family_set(self, key: str, family_ids: list[str], ttl_seconds: int) -> None:
        with translated(COSMOS_DB):
            self._container.upsert_item({"id": key, "families": family_ids, "ttl": ttl_seconds})

    def family_set(self, key: str) -> list[str] | None:
        document = self._read(key)
        return None if document is None else list(document.get("families", []))

    def _read(self, key: str) -> dict[str, Any] | None:
        try:
            with translated(COSMOS_DB):
                document: dict[str, Any] = self._container.read_item(key, key)
        except MissingError:
            return None
        return document
