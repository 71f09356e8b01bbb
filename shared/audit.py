"""Audit events: who did what to which record of a family, for every read and write.

Events are append-only through the code: this module creates them and lists them, nothing
updates or deletes one (the disposal of a whole family at the end of its retention is the one
exception, in ``shared/retention/disposal.py``). They live in their own container, partitioned
by family, and are hash-chained per family (``shared/audit_chain.py``).

Cost: appending is one ``create`` when this instance knows the family's head (it wrote or saw
the last event); otherwise one query for the head first. Within an instance, appends to one
family take turns (a striped lock), so only writers on other instances race for the next
``seq``; the loser (409) reads the head again and appends after it, after a short jittered
pause: one query and one create more per lost race.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cachetools import LRUCache

from shared.audit_chain import GENESIS, Head, event_hash, event_id, read_head
from shared.errors import DependencyUnavailableError
from shared.ports.audit import AuditStore
from shared.ports.errors import AlreadyExistsError
from shared.ports.records import QueryPage
from shared.records.store import now_iso

if TYPE_CHECKING:
    from shared.access import Caller


HEADS_CACHED = 8192
STRIPES = 64
APPEND_ATTEMPTS = 25
BACKOFF_SECONDS = 0.005


class AuditLog:
    def __init__(self, store: AuditStore, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock
        self._heads: LRUCache[str, Head] = LRUCache(HEADS_CACHED)
        self._lock = threading.Lock()
        self._stripes = [threading.Lock() for _ in range(STRIPES)]

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
        content: dict[str, Any] = {
            "familyId": family_id,
            "type": "audit",
            "at": now_iso(self._clock()),
            "actor": caller.audit_identity(),
            "action": action,
            "recordType": record_type,
            "recordId": record_id,
            "outcome": outcome,
        }
        if detail is not None:
            content["detail"] = detail
        return self._append(family_id, content)

    def _append(self, family_id: str, content: dict[str, Any]) -> dict[str, Any]:
        """One writer per family at a time in this instance (a striped lock), so threads here
        never race each other for the next ``seq``; only other instances can."""
        with self._stripes[hash(family_id) % STRIPES]:
            return self._append_unlocked(family_id, content)

    def _append_unlocked(self, family_id: str, content: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            head = self._heads.get(family_id)
        if head is None:
            head = read_head(self._store, family_id)
        for attempt in range(APPEND_ATTEMPTS):
            if attempt:
                time.sleep(random.uniform(0, BACKOFF_SECONDS * attempt))  # noqa: S311 - jitter
            seq = head.seq + 1 if head else 1
            event = {
                "id": event_id(family_id, seq),
                **content,
                "seq": seq,
                "prev": head.hash if head else GENESIS,
            }
            event["hash"] = event_hash(event)
            try:
                created: dict[str, Any] = self._store.append(event)
            except AlreadyExistsError:
                head = read_head(self._store, family_id)
                if head is None or head != Head(seq, event["hash"]):
                    continue
                created = event
            self._remember(family_id, Head(seq, event["hash"]))
            return created
        raise DependencyUnavailableError("The audit log", retry_after_seconds=1)

    def _remember(self, family_id: str, head: Head) -> None:
        with self._lock:
            known = self._heads.get(family_id)
            if known is None or known.seq < head.seq:
                self._heads[family_id] = head

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
        return self._store.page(family_id, limit, continuation)
