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
  (deallocated, a family sign-in revoked, a partner's grant revoked or expired) is noticed on
  the first page after the loss, even in the middle of a paged snapshot or delta: every page's
  token names the family set it saw. For a partner the set names each family with the scopes
  their grants cover, so a narrowed grant tombstones the kinds it no longer covers.
- A family gained (a new allocation or grant, or a grant that covers more kinds) is caught up:
  the next pages send everything of it the caller may see, as a snapshot would, before the
  delta goes on (from where it was, so nothing written meanwhile is missed). The families to
  catch up are kept server-side like a family set, so the token stays small however many. A
  snapshot whose family set changes part-way goes on over the set it started with, leaving out
  the families lost, so its continuation stays the one of its own query.
- Tokens are sealed (HMAC) and bound to the caller; a token older than the tombstone lifetime is
  410: the device must start again with a full snapshot.
- A snapshot is audited once per family, on its first page; a delta page is audited once per
  family it carries changes of.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from shared.access import ALWAYS_VISIBLE_TO_PARTNERS, Caller, FamilyAccess, can_see, family_access
from shared.errors import BadRequestError, GoneError
from shared.grants import scope_of
from shared.ports.records import QueryPage
from shared.ports.runtime import Runtime
from shared.query import bounded_integer
from shared.records.kinds import KINDS
from shared.records.store import ever_with_partners, version_of
from shared.services.case import present_for
from shared.services.families import partner_family, present_family, reachable_families

SYNC_TYPES = ("family", *KINDS)
ALWAYS_VISIBLE = frozenset({"family", "member", "visit"})
DELTA_KEYS = ("snap", "from", "qs", "hw", "after")
TOKEN_VERSION = 1
MAX_LIMIT = 1000
DEFAULT_LIMIT = 500


def sync_limit(raw: str | None) -> int:
    return bounded_integer(raw, "limit", 1, MAX_LIMIT, DEFAULT_LIMIT)


def family_set_hash(family_ids: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(family_ids)).encode()).hexdigest()[:32]


def entry_of(access: FamilyAccess) -> str:
    """A family in the caller's family set: its id, and for a partner the scopes they hold."""
    if access.is_partner:
        return f"{access.family_id}#{','.join(sorted(access.scopes))}"
    return access.family_id


def parse_entry(entry: str) -> tuple[str, frozenset[str] | None]:
    """The family and scopes of an entry (None: everything the caller's kind sees)."""
    family_id, marked, scopes = entry.partition("#")
    return family_id, frozenset(filter(None, scopes.split(","))) if marked else None


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
        entries = sorted(entry_of(access) for access in accesses.values())
        fingerprint = family_set_hash(entries)
        overlap = self.settings.sync_overlap_seconds
        changes: list[dict[str, Any]] = []
        catch = self._family_set(str(state["ch"])) if state and state.get("ch") else []
        catch_c = state.get("cc") if state is not None else None
        if state is not None and state.get("fh") != fingerprint:
            previous = self._family_set(str(state["fh"]))
            changes += self._lost_families(previous, entries, accesses)
            gained = sorted(set(self._gained(previous, entries)) - set(catch))
            if gained:
                catch, catch_c = sorted({*catch, *gained}), None
        if any(f not in accesses for f in catch):
            catch, catch_c = [f for f in catch if f in accesses], None
        catching = False
        if state is None or state.get("snap"):
            snapshot = True
            started = now if state is None else int(state["start"])
            snap_set = fingerprint if state is None else str(state.get("sfh") or state["fh"])
            queried = family_ids
            if snap_set != fingerprint:
                queried = sorted({parse_entry(e)[0] for e in self._family_set(snap_set)})
            page = self._snapshot_page(queried, limit, state.get("c") if state else None)
            rows = [r for r in page.items if r["familyId"] in accesses]
            more = page.continuation is not None
            following: dict[str, Any] = (
                {"snap": True, "c": page.continuation, "start": started, "sfh": snap_set}
                if more
                else {"snap": False, "from": max(0, started - overlap), "after": None, "hw": 0}
            )
            more = more or bool(catch)
        elif catch:
            snapshot = catching = True
            page = self._snapshot_page(catch, limit, catch_c)
            rows = page.items
            catch_c = page.continuation
            catch = catch if catch_c is not None else []
            following = {key: state[key] for key in DELTA_KEYS if key in state}
            more = True
        else:
            snapshot = False
            after = state.get("after")
            queried_at = int(state.get("qs") or now)
            rows = self._changes(family_ids, int(state["from"]), after, limit + 1)
            more = len(rows) > limit
            rows = rows[:limit]
            newest = max([int(state.get("hw", 0)), *(int(r["_ts"]) for r in rows)])
            following = (
                {
                    "snap": False,
                    "from": state["from"],
                    "qs": queried_at,
                    "hw": newest,
                    "after": [int(rows[-1]["_ts"]), rows[-1]["id"]],
                }
                if more
                else {
                    "snap": False,
                    "from": max(0, max(newest, queried_at) - overlap),
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
        self._remember_family_set(fingerprint, entries)
        if catch:
            following |= {"ch": family_set_hash(catch), "cc": catch_c}
            self._remember_family_set(family_set_hash(catch), catch)
        following |= {
            "v": TOKEN_VERSION,
            "fh": fingerprint,
            "iat": int(state["iat"]) if state is not None and more else now,
        }
        first_snapshot_page = snapshot and state is None
        if first_snapshot_page:
            audited = family_ids
        else:
            audited = sorted(touched) if catching or not snapshot else []
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

    def _family_set(self, fingerprint: str) -> list[str]:
        previous = self.runtime.operations.family_set(f"famset:{fingerprint}")
        if previous is None:
            raise GoneError("This sync token's history has expired; pull a full snapshot.")
        return previous

    @staticmethod
    def _gained(previous: list[str], entries: list[str]) -> list[str]:
        """Families of ``entries`` the device may hold less of than the caller now sees."""
        held = dict(parse_entry(entry) for entry in previous)
        gained = []
        for entry in sorted(set(entries) - set(previous)):
            family_id, scopes = parse_entry(entry)
            if family_id not in held:
                gained.append(family_id)
                continue
            before = held[family_id]
            if before is not None and (scopes is None or not scopes <= before):
                gained.append(family_id)
        return gained

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
        if access.is_staff:
            return True
        if access.is_partner:
            return held_by_partner(row, access.scopes)
        return row.get("type") in ALWAYS_VISIBLE or bool(row.get("everShared"))

    def _present(
        self, record_type: str, row: dict[str, Any], access: FamilyAccess
    ) -> dict[str, Any]:
        if record_type == "family":
            return (
                partner_family(row) if access.is_partner else present_family(row, access.is_staff)
            )
        return present_for(self.runtime, access, KINDS[record_type], row)

    def _lost_families(
        self, previous: list[str], entries: list[str], accesses: Mapping[str, FamilyAccess]
    ) -> list[dict[str, Any]]:
        """Tombstones for every record the caller could see of the families (or, for a partner,
        of the kinds) they saw before and no longer do."""
        tombstones: list[dict[str, Any]] = []
        for entry in sorted(set(previous) - set(entries)):
            family_id, scopes = parse_entry(entry)
            still = accesses.get(family_id)
            for row in self.runtime.records.sync_rows(family_id, SYNC_TYPES):
                if self._held(row, scopes) and not (still and self._still_held(row, still)):
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

    def _held(self, row: Mapping[str, Any], scopes: frozenset[str] | None) -> bool:
        """Whether a device may hold the row, given what the caller saw of its family then."""
        if scopes is not None:
            return row["type"] == "family" or held_by_partner(row, scopes)
        return (
            not self.caller.is_family
            or row["type"] in ALWAYS_VISIBLE
            or bool(row.get("everShared"))
        )

    @staticmethod
    def _still_held(row: Mapping[str, Any], access: FamilyAccess) -> bool:
        """Whether the caller, who still sees the family (with other scopes, or as another kind
        of caller), still sees the row."""
        return can_see(access, row)

    def _remember_family_set(self, fingerprint: str, entries: list[str]) -> None:
        key = f"famset:{fingerprint}"
        with self.runtime.cache_lock:
            if key in self.runtime.sync_cache:
                return
        ttl = (self.settings.sync_tombstone_days + 1) * 86_400
        self.runtime.operations.remember_family_set(key, entries, ttl)
        with self.runtime.cache_lock:
            self.runtime.sync_cache[key] = True


def held_by_partner(row: Mapping[str, Any], scopes: frozenset[str]) -> bool:
    """Whether a partner whose grants covered ``scopes`` may have been sent the row: of a kind
    covered, and a visit or a record once shared with partners or the family."""
    return scope_of(row) in scopes and (
        row.get("type") in ALWAYS_VISIBLE_TO_PARTNERS or ever_with_partners(row)
    )
