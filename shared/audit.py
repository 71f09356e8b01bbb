"""Audit events: who did what to which record of a family, for every read and write.

Events are append-only through the code: this module creates them and lists them, nothing
updates or deletes one (the disposal of a whole family at the end of its retention is the one
exception, in ``shared/retention/disposal.py``). They live in their own container, partitioned
by family.

Cost on the request path: one ``create``, nothing else. No lock, no read of the chain's head:
each event gets a unique id from this writer's own id (random, one per process) and its own
sequence number, so writers on any number of instances never race each other. The hash chain
is built afterwards, off the request path, by the sealer (``shared/audit_seal.py``), which
seals each family's new events in a fixed order. A create that the SDK retried after its first
attempt landed answers 409 for this writer's own id: that event is stored, and is returned.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.audit_chain import EVENT_TYPE, event_id
from shared.ports.audit import AuditStore
from shared.ports.errors import AlreadyExistsError
from shared.ports.records import QueryPage
from shared.records.store import now_iso

if TYPE_CHECKING:
    from shared.access import Caller

FAMILIES_AT_ONCE = 8


class AuditLog:
    def __init__(
        self, store: AuditStore, clock: Callable[[], datetime], writer: str | None = None
    ) -> None:
        self._store = store
        self._clock = clock
        self.writer = writer or secrets.token_hex(8)
        self._sequence = itertools.count(1)

    def record(
        self,
        caller: Caller,
        action: str,
        family_id: str,
        record_type: str,
        record_id: str | None,
        outcome: str = "ok",
        detail: str | None = None,
    ) -> dict[str, Any]:
        wseq = next(self._sequence)
        event: dict[str, Any] = {
            "id": event_id(self.writer, wseq),
            "familyId": family_id,
            "type": EVENT_TYPE,
            "at": now_iso(self._clock()),
            "actor": caller.audit_identity(),
            "action": action,
            "recordType": record_type,
            "recordId": record_id,
            "outcome": outcome,
            "writer": self.writer,
            "wseq": wseq,
        }
        if detail is not None:
            event["detail"] = detail
        try:
            return self._store.append(event)
        except AlreadyExistsError:
            return event

    def record_each_family(
        self, caller: Caller, action: str, family_ids: list[str], record_type: str
    ) -> None:
        """One event per family (e.g. a list or sync page spanning families), written together."""
        if len(family_ids) <= 1:
            for family_id in family_ids:
                self.record(caller, action, family_id, record_type, None)
            return
        with ThreadPoolExecutor(max_workers=min(FAMILIES_AT_ONCE, len(family_ids))) as pool:
            futures = [
                pool.submit(self.record, caller, action, family_id, record_type, None)
                for family_id in family_ids
            ]
            for future in futures:
                future.result()

    def page(self, family_id: str, limit: int, continuation: str | None) -> QueryPage:
        return self._store.page(family_id, limit, continuation)
