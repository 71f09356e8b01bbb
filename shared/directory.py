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
    """The caller's own document: a staff profile, or a family sign-in's links. A partner
    agency's guest has no profile (their grants live with the families); their id is read as a
    staff profile's, which the staff directory never holds for them."""
    if principal.kind == "family":
        return family_link_id(principal)
    return staff_profile_id(principal.tenant_id, principal.object_id)
