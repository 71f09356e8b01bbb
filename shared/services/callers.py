"""From a validated token to a Caller: staff with their teams, family sign-ins with their links."""

from __future__ import annotations

from shared.access import Caller
from shared.directory import profile_id
from shared.grants import active_grants
from shared.identity import Principal
from shared.ports.runtime import Runtime
from shared.records.family_access import access_family, forget_family, read_family
from shared.records.store import now_iso

__all__ = ["access_family", "forget_family", "read_family", "resolve_caller"]


def resolve_caller(runtime: Runtime, principal: Principal) -> Caller:
    """The caller with their teams (staff, cached briefly per instance), family memberships or
    partner grants.

    A family sign-in's memberships are read on every request, never cached, so revoking a
    sign-in (``shared.services.family_links``) takes effect at once on every instance: one
    point read (1 RU) per family request is the price. A partner's grants likewise: one query
    per request finds the grants neither revoked nor expired, and each is checked again against
    the clock here, so an ended grant gives nothing from the first request after its end.
    """
    if principal.kind == "partner":
        now = runtime.clock()
        found = runtime.partner_grants.active_of(
            principal.tenant_id, principal.object_id, now_iso(now)
        )
        grants = active_grants(found, principal.tenant_id, principal.object_id, now)
        return Caller(principal, grants=grants)
    key = profile_id(principal)
    if principal.kind == "family":
        from shared.sign_ins import note_seen

        link = runtime.directory.read(key) or {}
        note_seen(runtime.directory, runtime.clock, link)
        return Caller(principal, memberships=dict(link.get("memberships", {})))
    with runtime.cache_lock:
        profile = runtime.profile_cache.get(key)
    if profile is None:
        profile = runtime.directory.read(key) or {}
        with runtime.cache_lock:
            runtime.profile_cache[key] = profile
    return Caller(principal, team_ids=frozenset(profile.get("teamIds", [])))
