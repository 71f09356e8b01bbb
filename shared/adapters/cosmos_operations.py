"""``Operations`` on the Cosmos DB ``sync`` container (partitioned by ``/pk``, nothing indexed,
per-item TTL).

An owner's operations share one partition (``pk`` = ``op:<owner>``), so a push's claims are one
transactional batch of creates and its results another: two requests for any number of
operations (a batch holds at most ``BATCH_OPERATIONS`` and about ``BATCH_BYTES``; more are
split). A result is a document of its own beside its claim (``result:<owner>:<key>``), created
rather than written over the claim, because the local emulator's batches take creates only. A
batch of claims fails whole when one operation was claimed before (a replay): then each of the
others is claimed alone. Each claim carries a token of the push that made it, so a claim this
push already made (a batch applied in part, as the local emulator's is) is recognised as its
own. A family set is stored under its fingerprint, in a partition of its own.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from shared.adapters.faults import COSMOS_DB, translated
from shared.ports.errors import (
    AlreadyExistsError,
    MissingError,
    StorageError,
    StorageUnavailableError,
)
from shared.storage_layout import SYNC

if TYPE_CHECKING:
    from shared.adapters.cosmos import ContainerProxy, DatabaseProxy

BATCH_OPERATIONS = 100
BATCH_BYTES = 1_500_000


def _partition(owner: str) -> str:
    return f"op:{owner}"


def _id(owner: str, key: str) -> str:
    return f"op:{owner}:{key}"


def _result_id(owner: str, key: str) -> str:
    return f"result:{owner}:{key}"


class CosmosOperations:
    def __init__(self, container: ContainerProxy) -> None:
        self._container = container

    @classmethod
    def from_database(cls, database: DatabaseProxy) -> CosmosOperations:
        return cls(database.get_container_client(SYNC.name))

    def claim(self, owner: str, keys: Sequence[str], ttl_seconds: int) -> set[str]:
        token = secrets.token_hex(8)
        pk = _partition(owner)
        documents = {
            key: {
                "id": _id(owner, key),
                "pk": pk,
                "state": "in_progress",
                "claim": token,
                "ttl": ttl_seconds,
            }
            for key in keys
        }
        taken = None
        if len(documents) > 1:
            done, taken = self._batch(pk, "create", list(documents.values()))
            if done:
                return set(documents)
        return {
            key
            for key, document in documents.items()
            if document["id"] != taken and self._claim_one(document, token)
        }

    def _claim_one(self, document: dict[str, Any], token: str) -> bool:
        try:
            with translated(COSMOS_DB):
                self._container.create_item(document)
        except AlreadyExistsError:
            found = self._read(document["pk"], document["id"])
            return found is not None and found.get("claim") == token
        return True

    def results(self, owner: str, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        found = {}
        for key in keys:
            document = self._read(_partition(owner), _result_id(owner, key))
            if document is not None and document.get("result"):
                found[key] = dict(document["result"])
        return found

    def complete(self, owner: str, results: Mapping[str, dict[str, Any]], ttl_seconds: int) -> None:
        pk = _partition(owner)
        documents = [
            {"id": _result_id(owner, key), "pk": pk, "result": result, "ttl": ttl_seconds}
            for key, result in results.items()
        ]
        if len(documents) > 1 and self._batch(pk, "create", documents)[0]:
            return
        for document in documents:
            with translated(COSMOS_DB):
                self._container.upsert_item(document)

    def release(self, owner: str, key: str) -> None:
        try:
            with translated(COSMOS_DB):
                self._container.delete_item(_id(owner, key), partition_key=_partition(owner))
        except MissingError:
            return

    def remember_family_set(self, key: str, family_ids: list[str], ttl_seconds: int) -> None:
        document = {"id": key, "pk": key, "families": family_ids, "ttl": ttl_seconds}
        with translated(COSMOS_DB):
            self._container.upsert_item(document)

    def family_set(self, key: str) -> list[str] | None:
        document = self._read(key, key)
        return None if document is None else list(document.get("families", []))

    def _batch(
        self, pk: str, operation: str, documents: list[dict[str, Any]]
    ) -> tuple[bool, str | None]:
        """Every document in transactional batches: done, or not, with the id of the document
        found taken (409) when that is why a batch failed; the caller then goes one by one.
        Raises for an outage."""
        from azure.cosmos.exceptions import CosmosBatchOperationError

        for chunk in _chunks(documents):
            try:
                with translated(COSMOS_DB):
                    self._container.execute_item_batch(
                        [(operation, (document,)) for document in chunk], partition_key=pk
                    )
            except StorageUnavailableError:
                raise
            except StorageError as failed:
                cause = failed.__cause__
                if not isinstance(cause, CosmosBatchOperationError):
                    raise
                index = cause.error_index
                taken = cause.status_code == 409 and isinstance(index, int) and index < len(chunk)
                return False, chunk[index]["id"] if taken else None
        return True, None

    def _read(self, pk: str, item_id: str) -> dict[str, Any] | None:
        try:
            with translated(COSMOS_DB):
                document: dict[str, Any] = self._container.read_item(item_id, partition_key=pk)
        except MissingError:
            return None
        return document


def _chunks(documents: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    size = 0
    for document in documents:
        length = len(json.dumps(document, separators=(",", ":")))
        if chunk and (len(chunk) == BATCH_OPERATIONS or size + length > BATCH_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(document)
        size += length
    if chunk:
        yield chunk
