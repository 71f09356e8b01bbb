"""Records duty: subject access export, note versions and disputes, audit verification, and the
disposal run."""

from __future__ import annotations

import azure.functions as func

from functions.http import Call, Reply, endpoint
from shared.composition import get_runtime
from shared.services import audit_trail

bp = func.Blueprint()


@endpoint(
    bp,
    name="audit_verify",
    route="families/{familyId}/audit/verify",
    methods=["GET"],
    summary="Check the family's audit trail against its hash chain (managers)",
    tags=("audit",),
)
def audit_verify(call: Call) -> Reply:
    return Reply(
        audit_trail.verify_family_audit(get_runtime(), call.caller, call.route_id("familyId"))
    )
