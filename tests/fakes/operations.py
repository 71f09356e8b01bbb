"""``Operations`` in memory: applied sync operations and family sets, expiring by TTL."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from shared.ports.errors import AlreadyExistsError, MissingError
from tests.fakes.documents import Documents, utc_now


class InMemoryOperations:
    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self.documents = Documents(clock)
        self.requests = 0

    def claim(self, owner: str, keys: Sequence[str], ttl_seconds: int) -> set[str]:
        self.requests += 1
        claimed = set()
        for key in keys:
            try:
                self.documents.create(
                    owner, {"id": key, "state": "in_progress", "ttl": ttl_seconds}
                )
            except AlreadyExistsError:
                continue
            claimed.add(key)
        return claimed

    def results(self, owner: str, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        found = {}
        for key in keys:
            self.requests += 1
            document = self.documents.read(owner, key)
            if document is not None and document.get("state") == "done":
                found[key] = dict(document["result"])
        return found

    def complete(self, owner: str, results: Mapping[str, dict[str, Any]], ttl_seconds: int) -> None:
        if not results:
            return
        self.requests += 1
        for key, result in results.items():
            document = {"id": key, "state": "done", "result": result, "ttl": ttl_seconds}
            self.documents.upsert(owner, document)

    def release(self, owner: str, key: str) -> None:
        self.requests += 1
        try:
            self.documents.delete(owner, key)
        except MissingError:
            return

    def remember_family_set(self, key: str, family_ids: list[str], ttl_seconds: int) -> None:
        self.documents.upsert(key, {"id": key, "families": family_ids, "ttl": ttl_seconds})

    def family_set(self, key: str) -> list[str] | None:
        document = self.documents.read(key, key)
        return None if document is None else list(document.get("families", []))
