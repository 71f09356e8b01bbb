"""From a validated token to a Caller: staff with their teams, family sign-ins with their links."""

from __future__ import annotations

from typing import Any

from shared.access import Caller
from shared.directory import profile_id
from shared.grants import active_grants
from shared.identity import Principal
from shared.ports.errors import StorageError
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
        note_roles(runtime, principal, profile)
        with runtime.cache_lock:
            runtime.profile_cache[key] = profile
    return Caller(principal, team_ids=frozenset(profile.get("teamIds", [])))


def note_roles(runtime: Runtime, principal: Principal, profile: dict[str, Any]) -> None:
    """Keep on a staff entry the app roles of its owner's latest token, when they changed.

    The directory holds teams and phones; roles live in Entra ID and reach the app only in
    tokens. Safety alerts text a family's team managers, so the directory learns who they are
    from their own sign-ins (written at most once per change of roles, never on other
    requests). A manager who has never signed in is not yet known as one."""
    roles = sorted(principal.roles)
    if profile.get("type") != "staff" or profile.get("roles") == roles:
        return
    noted = {k: v for k, v in profile.items() if not k.startswith("_")}
    noted |= {"roles": roles, "rolesSeenAt": now_iso(runtime.clock())}
    try:
        runtime.directory.replace(noted, str(profile.get("_etag", "")))
    except StorageError:
        return
    profile["roles"] = roles
