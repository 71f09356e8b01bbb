"""From a validated token to a Caller, and from a family id to the caller's access to it."""

from __future__ import annotations

from typing import Any

from shared.access import Caller, FamilyAccess, family_access
from shared.composition import Runtime
from shared.directory import profile_id
from shared.errors import NotFoundError
from shared.identity import Principal
from shared.ids import canonical_id


def resolve_caller(runtime: Runtime, principal: Principal) -> Caller:
    """The caller with their teams (staff, cached briefly per instance) or family memberships.

    A family sign-in's memberships are read on every request, never cached, so revoking a
    sign-in (``shared.services.family_links``) takes effect at once on every instance: one
    point read (1 RU) per family request is the price.
    """
    key = profile_id(principal)
    if principal.kind == "family":
        from shared.services.family_links import note_seen

        link = runtime.directory.read(key) or {}
        note_seen(runtime, link)
        return Caller(principal, memberships=dict(link.get("memberships", {})))
    with runtime.cache_lock:
        profile = runtime.profile_cache.get(key)
    if profile is None:
        profile = runtime.directory.read(key) or {}
        with runtime.cache_lock:
            runtime.profile_cache[key] = profile
    return Caller(principal, team_ids=frozenset(profile.get("teamIds", [])))


def read_family(runtime: Runtime, family_id: str, fresh: bool = False) -> dict[str, Any] | None:
    if canonical_id(family_id) != family_id:
        return None
    if not fresh:
        with runtime.cache_lock:
            cached = runtime.family_cache.get(family_id)
        if cached is not None:
            return cached
    family = runtime.records.read(family_id, family_id)
    if family is not None and family.get("type") == "family":
        with runtime.cache_lock:
            runtime.family_cache[family_id] = family
        return family
    return None


def forget_family(runtime: Runtime, family_id: str) -> None:
    """A family changed here: drop it, and every caller's cached list of reachable families."""
    with runtime.cache_lock:
        runtime.family_cache.pop(family_id, None)
        for key in [k for k in runtime.family_cache if k.startswith("reach:")]:
            runtime.family_cache.pop(key, None)


def access_family(
    runtime: Runtime, caller: Caller, family_id: str, record_type: str, fresh: bool = False
) -> FamilyAccess:
    """The caller's access to the family; a refusal of an existing family is audited."""
    family = read_family(runtime, family_id, fresh)
    try:
        return family_access(caller, family)
    except NotFoundError:
        if family is not None and not family.get("deleted"):
            runtime.audit.record(caller, "access", family_id, record_type, None, "denied")
        raise
