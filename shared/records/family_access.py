"""A family as the caller may reach it: read (cached briefly per instance), decided by
``shared.access``, and a refusal of a family that exists audited."""

from __future__ import annotations

from typing import Any

from shared.access import Caller, FamilyAccess, family_access
from shared.errors import NotFoundError
from shared.ids import canonical_id
from shared.ports.runtime import Runtime


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
        return family_access(caller, family, record_type)
    except NotFoundError:
        if family is not None and not family.get("deleted"):
            runtime.audit.record(caller, "access", family_id, record_type, None, "denied")
        raise
