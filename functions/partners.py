"""Partner agencies: grants of a family to a partner, and who can see a family's story."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import Call, Reply, endpoint, listing, not_modified, record_reply
from shared.bootstrap import get_runtime
from shared.lazy import LazyModule

if TYPE_CHECKING:
    from shared.records import grant_models
    from shared.services import partners
else:
    grant_models = LazyModule("shared.records.grant_models")
    partners = LazyModule("shared.services.partners")

bp = func.Blueprint()

GRANTS = "families/{familyId}/partners"
GRANT = "families/{familyId}/partners/{grantId}"
# The example ends within the allowed time of the day the app started, as a real grant must.
EXAMPLE_END = (datetime.now(UTC) + timedelta(days=90)).strftime("%Y-%m-%dT00:00:00Z")


@endpoint(
    bp,
    name="partners_create",
    route=GRANTS,
    methods=["POST"],
    summary="Grant a partner agency's professional this family, for a purpose, for a time",
    body=lambda: grant_models.GrantIn,
    response=lambda: grant_models.GrantOut,
    status=201,
    tags=("partners",),
    location=GRANT,
    example={
        "partnerOid": "5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f",
        "displayName": "Dana Head",
        "organisation": "Hillside Primary School",
        "agency": "education",
        "scopes": ["agendas", "plans"],
        "lawfulBasis": "children-act-1989-s17",
        "reason": "Member of the core group: owns the breakfast club action of the plan.",
        "expiresAt": EXAMPLE_END,
    },
)
def partners_create(call: Call) -> Reply:
    runtime = get_runtime()
    made = partners.create_grant(
        runtime, call.caller, call.route_id("familyId"), call.json(grant_models.GrantIn)
    )
    body = partners.present_grant(made.document, runtime.clock())
    return call.created(body) if made.created else record_reply(body)


@endpoint(
    bp,
    name="partners_list",
    route=GRANTS,
    methods=["GET"],
    summary="The family's grants to partner agencies, active and ended (staff)",
    response=lambda: grant_models.GrantOut,
    tags=("partners",),
)
def partners_list(call: Call) -> Reply:
    found = partners.list_grants(
        get_runtime(),
        call.caller,
        call.route_id("familyId"),
        *call.page(),
    )
    return listing(found.documents, None, found.next)


@endpoint(
    bp,
    name="partners_get",
    route=GRANT,
    methods=["GET"],
    summary="Read a grant (staff)",
    response=lambda: grant_models.GrantOut,
    tags=("partners",),
)
def partners_get(call: Call) -> Reply:
    body = partners.get_grant(
        get_runtime(), call.caller, call.route_id("familyId"), call.route_id("grantId")
    )
    return not_modified(call, body) or record_reply(body)


@endpoint(
    bp,
    name="partners_update",
    route=GRANT,
    methods=["PATCH"],
    summary="Change an active grant's scopes, end or reason",
    body=lambda: grant_models.GrantPatch,
    response=lambda: grant_models.GrantOut,
    tags=("partners",),
    statuses=(409,),
    example={"scopes": ["agendas", "plans", "visits"]},
)
def partners_update(call: Call) -> Reply:
    body = partners.update_grant(
        get_runtime(),
        call.caller,
        call.route_id("familyId"),
        call.route_id("grantId"),
        call.json(grant_models.GrantPatch),
        call.header("if-match"),
    )
    return record_reply(body)


@endpoint(
    bp,
    name="partners_revoke",
    route=GRANT,
    methods=["DELETE"],
    summary="Revoke a grant: the partner loses the family at once",
    status=204,
    tags=("partners",),
)
def partners_revoke(call: Call) -> Reply:
    partners.revoke_grant(
        get_runtime(),
        call.caller,
        call.route_id("familyId"),
        call.route_id("grantId"),
        call.header("if-match"),
    )
    return Reply(None, 204)


@endpoint(
    bp,
    name="partners_access",
    route="families/{familyId}/access",
    methods=["GET"],
    summary="Who can see this family's story (staff with access, family members)",
    response=lambda: grant_models.AccessOut,
    tags=("partners",),
)
def partners_access(call: Call) -> Reply:
    return Reply(partners.who_can_see(get_runtime(), call.caller, call.route_id("familyId")))
