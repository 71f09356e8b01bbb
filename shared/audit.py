"""Audit events: who did what to which record of a family, for every read and write.

Events are append-only through the code: this module creates them and lists them, nothing
updates or deletes one. They live in their own container, partitioned by family.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.records.store import QueryPage, first_page, now_iso
from shared.storage_layout import AUDIT

if TYPE_CHECKING:
    from azure.cosmos import DatabaseProxy

    from shared.access import Caller


class AuditLog:
    def __init__(self, database: DatabaseProxy, clock: Callable[[], datetime]) -> None:
        self._container = database.get_container_client(AUDIT.name)
        self._clock = clock

    def record(
        self,
        caller: Caller,
        action: str,
        family_id: str,
        record_type: str,
        record_id: str | None,
        outcome: str = "ok",
    ) -> dict[str, Any]:
        event = {
            "id": str(uuid.uuid4()),
            "familyId": family_id,
            "type": "audit",
            "at": now_iso(self._clock()),
            "actor": caller.audit_identity(),
            "action": action,
            "recordType": record_type,
            "recordId": record_id,
            "outcome": outcome,
        }
        created: dict[str, Any] = self._container.create_item(event)
        return created

    def record_each_family(
        self, caller: Caller, action: str, family_ids: list[str], record_type: str
    ) -> None:
        """One event per family (e.g. a list or sync page spanning families), written together."""
        from concurrent.futures import ThreadPoolExecutor

        if len(family_ids) <= 1:
            for family_id in family_ids:
                self.record(caller, action, family_id, record_type, None)
            return
        with ThreadPoolExecutor(max_workers=min(8, len(family_ids))) as pool:
            futures = [
                pool.submit(self.record, caller, action, family_id, record_type, None)
                for family_id in family_ids
            ]
            for future in futures:
                future.result()

    def page(self, family_id: str, limit: int, continuation: str | None) -> QueryPage:
        query = (
            "SELECT * FROM c WHERE c.familyId = @familyId AND c.type = 'audit' "
            "ORDER BY c.at DESC, c.id DESC"
        )
        parameters: list[dict[str, Any]] = [{"name": "@familyId", "value": family_id}]
        return first_page(self._container, query, parameters, family_id, limit, continuation)
