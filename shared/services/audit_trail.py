"""The audit trail's integrity, checked on demand by team managers and the head of service: the
sealed chain intact (``ok``, ``problems``), and the events not sealed yet listed as pending."""

from __future__ import annotations

from typing import Any

from shared.access import Caller, FamilyAccess
from shared.audit_chain import verify_chain
from shared.errors import ForbiddenError
from shared.ports.runtime import Runtime
from shared.records.family_access import access_family

MANAGERS = ("TeamManager", "HeadOfService")


def require_manager(access: FamilyAccess, what: str) -> None:
    """Team managers and the head of service with access; others who can see the family: 403."""
    if not access.is_staff or not access.caller.principal.has_role(*MANAGERS):
        raise ForbiddenError(f"Only team managers and the head of service {what}.")


def verify_family_audit(runtime: Runtime, caller: Caller, family_id: str) -> dict[str, Any]:
    access = access_family(runtime, caller, family_id, "audit")
    require_manager(access, "verify the audit trail")
    report = verify_chain(
        runtime.audit_store, runtime.audit_anchors, runtime.audit_key, access.family_id
    )
    runtime.audit.record(caller, "verify", access.family_id, "audit", None)
    return report.as_dict()
