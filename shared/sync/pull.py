"""Delta pull: everything that changed since the caller's token, across their families.

Design (the local Cosmos emulator's change feed is incomplete, so none is used):

- A snapshot is the plain read of the caller's families, paged by the database's continuation
  (records of other types and tombstones are dropped in code, which keeps the query the cheapest
  one there is); it starts the delta from the time it began, less the overlap.
- Changes are read by the server timestamp ``_ts`` with one query across the caller's families,
  ordered by (``_ts``, ``id``) and paged by that key, so the cost of a pull grows with what
  changed, not with the caseload.
- ``_ts`` has one-second resolution and a write racing a pull may commit with a ``_ts`` the pull
  has already passed; each new pull therefore starts ``SYNC_OVERLAP_SECONDS`` before the newest
  change it has seen. Re-sent changes carry the same ``id`` and ``version``; devices de-duplicate.
- Deleted records are tombstones (``deleted: true``, ``data: null``). A record that stops being
  visible to the caller (un-shared from the family, or the caller lost the family) is also a
  tombstone for them; a record they could never see is never mentioned at all. A lost family
  (deallocated, or a family sign-in revoked) is noticed on the first page after the loss, even
  in the middle of a paged snapshot or delta: every page's token names the family set it saw.
- Tokens are sealed (HMAC) and bound to the caller; a token older than the tombstone lifetime is
  410: the device must start again with a full snapshot.
- A snapshot is audited once per family, on its first page; a delta page is audited once per
  family it carries changes of.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from shared.access import Caller, FamilyAccess, can_see, family_access
from shared.errors import BadRequestError, GoneError
from shared.ports.records import QueryPage
from shared.ports.runtime import Runtime
from shared.query import bounded_integer
from shared.records.kinds import KINDS
from shared.records.store import version_of
from shared.services.case import present_for
from shared.services.families import present_family, reachable_families

SYNC_TYPES = ("family", *KINDS)
ALWAYS_VISIBLE = frozenset({"family", "member", "visit"})
TOKEN_VERSION = 1
MAX_LIMIT = 1000
DEFAULT_LIMIT = 500


def sync_limit(raw: str | None) -> int:
    return bounded_integer(raw, "limit", 1, MAX_LIMIT, DEFAULT_LIMIT)


def family_set_hash(family_ids: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(family_ids)).encode()).hexdigest()[:32]


class Puller:
    def __init__(self, runtime: Runtime, caller: Caller) -> None:
        self.runtime = runtime
        self.caller = caller
        self.scope = f"sync|{caller.principal.key}"
        self.settings = runtime.settings

    def pull(self, token: str | None, limit: int) -> dict[str, Any]:
        now = int(self.runtime.clock().timestamp())
        state = self.runtime.signer.open(self.scope, token) if token else None
        if state is not None:
            self._check(state, now)
        accesses = self._accesses()
        family_ids = sorted(accesses)
        fingerprint = family_set_hash(family_ids)
        overlap = self.settings.sync_overlap_seconds
        changes: list[dict[str, Any]] = []
        if state is not None and state.get("fh") != fingerprint:
            changes += self._lost_families(str(state["fh"]), set(family_ids))
        if state is None or state.get("snap"):
            snapshot = True
            started = now if state is None else int(state["start"])
            page = self._snapshot_page(family_ids, limit, state.get("c") if state else None)
            rows, more = page.items, page.continuation is not None
            following: dict[str, Any] = (
                {"snap": True, "c": page.continuation, "start": started}
                if more
                else {"snap": False, "from": max(0, started - overlap), "after": None, "hw": 0}
            )
        else:
            snapshot = False
            after = state.get("after")
            queried = int(state.get("qs") or now)
            rows = self._changes(family_ids, int(state["from"]), after, limit + 1)
            more = len(rows) > limit
            rows = rows[:limit]
            newest = max([int(state.get("hw", 0)), *(int(r["_ts"]) for r in rows)])
            following = (
                {
                    "snap": False,
                    "from": state["from"],
                    "qs": queried,
                    "hw": newest,
                    "after": [int(rows[-1]["_ts"]), rows[-1]["id"]],
                }
                if more
                else {
                    "snap": False,
                    "from": max(0, max(newest, queried) - overlap),
                    "after": None,
                    "hw": newest,
                }
            )
        touched: set[str] = set()
        for row in rows:
            change = self._change(row, accesses[row["familyId"]], snapshot)
            if change is not None:
                changes.append(change)
                touched.add(row["familyId"])
        self._remember_family_set(fingerprint, family_ids)
        following |= {
            "v": TOKEN_VERSION,
            "fh": fingerprint,
            "iat": int(state["iat"]) if state is not None and more else now,
        }
        first_snapshot_page = snapshot and state is None
        audited = family_ids if first_snapshot_page else [] if snapshot else sorted(touched)
        self.runtime.audit.record_each_family(self.caller, "sync", audited, "sync")
        return {
            "changes": changes,
            "next": self.runtime.signer.seal(self.scope, following),
            "more": more,
        }

    def _check(self, state: Mapping[str, Any], now: int) -> None:
        required = {"start"} if state.get("snap") else {"from"}
        if state.get("v") != TOKEN_VERSION or not {"fh", "iat", *required} <= set(state):
            raise BadRequestError("The sync token is not valid.")
        lifetime = self.settings.sync_tombstone_days * 86_400
        if now - int(state["iat"]) > lifetime:
            raise GoneError(
                "This device has been offline longer than deletions are kept; discard local "
                "data and pull a full snapshot (GET /sync without since).",
            )

    def _accesses(self) -> dict[str, FamilyAccess]:
        families = reachable_families(self.runtime, self.caller)
        return {str(f["id"]): family_access(self.caller, f) for f in families}

    def _snapshot_page(
        self, family_ids: list[str], limit: int, continuation: str | None
    ) -> QueryPage:
        if not family_ids:
            return QueryPage([], None)
        page = self.runtime.records.snapshot_page(family_ids, limit, continuation)
        wanted = [r for r in page.items if r.get("type") in SYNC_TYPES and not r.get("deleted")]
        return QueryPage(wanted, page.continuation)

    def _changes(
        self, family_ids: list[str], lower: int, after: list[Any] | None, top: int
    ) -> list[dict[str, Any]]:
        if not family_ids:
            return []
        key = None if after is None else (int(after[0]), str(after[1]))
        return self.runtime.records.changes(family_ids, SYNC_TYPES, lower, key, top)

    def _change(
        self, row: dict[str, Any], access: FamilyAccess, snapshot: bool
    ) -> dict[str, Any] | None:
        record_type = str(row["type"])
        visible = can_see(access, row)
        if not visible and (snapshot or not self._was_visible(row, access)):
            return None
        data = self._present(record_type, row, access) if visible else None
        return {
            "type": record_type,
            "id": row["id"],
            "familyId": row["familyId"],
            "version": version_of(row),
            "deleted": not visible,
            "data": data,
        }

    @staticmethod
    def _was_visible(row: Mapping[str, Any], access: FamilyAccess) -> bool:
        return access.is_staff or row.get("type") in ALWAYS_VISIBLE or bool(row.get("everShared"))

    def _present(
        self, record_type: str, row: dict[str, Any], access: FamilyAccess
    ) -> dict[str, Any]:
        if record_type == "family":
            return present_family(row, access.is_staff)
        return present_for(self.runtime, access, KINDS[record_type], row)

    def _lost_families(self, fingerprint: str, current: set[str]) -> list[dict[str, Any]]:
        """Tombstones for every record of the families the caller could see and no longer can."""
        previous = self.runtime.operations.family_set(f"famset:{fingerprint}")
        if previous is None:
            raise GoneError("This sync token's history has expired; pull a full snapshot.")
        lost = sorted(set(previous) - current)
        tombstones: list[dict[str, Any]] = []
        for family_id in lost:
            for row in self.runtime.records.sync_rows(family_id, SYNC_TYPES):
                seen_before = (
                    not self.caller.is_family
                    or row["type"] in ALWAYS_VISIBLE
                    or row.get("everShared")
                )
                if seen_before:
                    tombstones.append(
                        {
                            "type": row["type"],
                            "id": row["id"],
                            "familyId": family_id,
                            "version": version_of(row),
                            "deleted": True,
                            "data": None,
                        }
                    )
        return tombstones

    def _remember_family_set(self, fingerprint: str, family_ids: list[str]) -> None:
        key = f"famset:{fingerprint}"
        with self.runtime.cache_lock:
            if key in self.runtime.sync_cache:
                return
        ttl = (self.settings.sync_tombstone_days + 1) * 86_400
        self.runtime.operations.remember_family_set(key, family_ids, ttl)
        with self.runtime.cache_lock:
            self.runtime.sync_cache[key] = True
