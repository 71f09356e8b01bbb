"""``Operations`` in memory: applied sync operations and family sets, expiring by TTL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from shared.ports.errors import AlreadyExistsError
from tests.fakes.documents import Documents, utc_now


class InMemoryOperations:
    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self.documents = Documents(clock)

    def claim(self, key: str, ttl_seconds: int) -> bool:
        try:
            self.documents.create(key, {"id": key, "state": "in_progress", "ttl": ttl_seconds})
        except AlreadyExistsError:
            return False
        return True

    def complete(self, key: str, result: dict[str, Any], ttl_seconds: int) -> None:
        self.documents.upsert(
            key, {"id": key, "state": "done", "result": result, "ttl": ttl_seconds}
        )

    def release(self, key: str) -> None:
        self.documents.delete(key, key)

    def result(self, key: str) -> dict[str, Any] | None:
        document = self.documents.read(key, key)
        if document is None:
            return None
        result = document.get("result")
        return dict(result) if document.get("state") == "done" and result else None

    def remember_family_set(self, key: str, family_ids: list[str], ttl_seconds: int) -> None:
        self.documents.upsert(key, {"id": key, "families": family_ids, "ttl": ttl_seconds})

    def family_set(self, key: str) -> list[str] | None:
        document = self.documents.read(key, key)
        return None if document is None else list(document.get("families", []))
