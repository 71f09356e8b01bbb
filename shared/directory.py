"""Ids of the directory's documents: staff profiles and family sign-in links.

Each document is read by its own id (the caller's ``tid``+``oid``), so the directory is
partitioned by ``/id`` and every lookup on a request path is a point read
(``shared.ports.Directory``).
"""

from __future__ import annotations

from shared.identity import Principal


def staff_profile_id(tenant_id: str, object_id: str) -> str:
    return f"staff:{tenant_id}:{object_id}"


def family_link_id(principal: Principal) -> str:
    return f"familylink:{principal.key}"


def profile_id(principal: Principal) -> str:
    if principal.kind == "staff":
        return staff_profile_id(principal.tenant_id, principal.object_id)
    return family_link_id(principal)
