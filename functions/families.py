"""Families, their members, invitations, the audit trail, and the staff directory."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import (
    UUID,
    Call,
    Reply,
    Schema,
    endpoint,
    listed_page,
    listing,
    not_modified,
    record_reply,
)
from shared.access import require_role
from shared.bootstrap import get_runtime
from shared.lazy import LazyModule
from shared.records.kinds import MEMBER

if TYPE_CHECKING:
    from shared.records import models
    from shared.services import case, families, family_links, invitations, staff, views
else:
    models = LazyModule("shared.records.models")
    case = LazyModule("shared.services.case")
    families = LazyModule("shared.services.families")
    family_links = LazyModule("shared.services.family_links")
    invitations = LazyModule("shared.services.invitations")
    staff = LazyModule("shared.services.staff")
    views = LazyModule("shared.services.views")

bp = func.Blueprint()

FAMILY = "families/{familyId}"
MEMBERS = "families/{familyId}/members"
MEMBER_ITEM = "families/{familyId}/members/{memberId}"
LINKS = "families/{familyId}/members/{memberId}/links"
# A family as its caller sees it: the whole record (staff; family members without allocation and
# retention), or for a partner agency its id, name and team only.
FAMILY_VIEW = Schema(
    "FamilyView",
    {
        "anyOf": [
            {"$ref": "#/components/schemas/FamilyOut"},
            {"$ref": "#/components/schemas/PartnerFamilyOut"},
        ]
    },
    {
        "PartnerFamilyOut": {
            "type": "object",
            "description": "A family as a partner agency sees it.",
            "required": ["id", "displayName", "teamId"],
            "properties": {
                "id": {"type": "string"},
                "displayName": {"type": "string"},
                "teamId": {"type": "string"},
            },
        }
    },
)


@endpoint(
    bp,
    name="families_create",
    route="families",
    methods=["POST"],
    summary="Create a family (the creator is allocated)",
    body=lambda: models.FamilyIn,
    response=lambda: models.FamilyOut,
    status=201,
    tags=("families",),
    location=FAMILY,
    example={
        "displayName": "The Jones family",
        "teamId": "north-east",
        "retentionClass": "child-in-need",
    },
)
def families_create(call: Call) -> Reply:
    result = families.create_family(get_runtime(), call.caller, call.json(models.FamilyIn))
    body = families.present_family(result.document)
    return call.created(body) if result.created else record_reply(body)


@endpoint(
    bp,
    name="families_list",
    route="families",
    methods=["GET"],
    summary="The families the caller may see",
    response=FAMILY_VIEW,
    tags=("families",),
)
def families_list(call: Call) -> Reply:
    caller = call.caller
    found = families.list_families(
        get_runtime(),
        caller,
        *call.page(),
    )
    return listing(found.documents, lambda d: families.family_for(caller, d), found.next)


@endpoint(
    bp,
    name="families_get",
    route=FAMILY,
    methods=["GET"],
    summary="Read a family",
    response=FAMILY_VIEW,
    headers=("ETag",),
    tags=("families",),
)
def families_get(call: Call) -> Reply:
    document = families.get_family(get_runtime(), call.caller, call.route_id("familyId"))
    version = families.family_version(document)
    body = families.family_for(call.caller, document)
    return not_modified(call, {"version": version}) or record_reply(body, version=version)


@endpoint(
    bp,
    name="families_update",
    route=FAMILY,
    methods=["PATCH"],
    summary="Change a family; allocation by team managers and head of service",
    body=lambda: models.FamilyPatch,
    response=lambda: models.FamilyOut,
    tags=("families",),
)
def families_update(call: Call) -> Reply:
    stored = families.update_family(
        get_runtime(),
        call.caller,
        call.route_id("familyId"),
        call.json(models.FamilyPatch),
        call.header("if-match"),
    )
    return record_reply(families.present_family(stored))


@endpoint(
    bp,
    name="members_create",
    route=MEMBERS,
    methods=["POST"],
    summary="Add a person to the family",
    body=lambda: models.MemberIn,
    response=lambda: models.MemberOut,
    status=201,
    tags=("members",),
    location=MEMBER_ITEM,
    example={
        "displayName": "Pat Jones",
        "relationship": "mother",
        "phone": "+447700900123",
        "smsReminders": True,
    },
)
def members_create(call: Call) -> Reply:
    made = views.create_member(
        get_runtime(), call.caller, call.route_id("familyId"), call.json(models.MemberIn)
    )
    return call.created(made.document) if made.created else record_reply(made.document)


@endpoint(
    bp,
    name="members_list",
    route=MEMBERS,
    methods=["GET"],
    summary="People in the family",
    tags=("members",),
)
def members_list(call: Call) -> Reply:
    return listed_page(call, MEMBER)


@endpoint(
    bp,
    name="members_update",
    route=MEMBER_ITEM,
    methods=["PATCH"],
    summary="Change a member (the member: only smsReminders, phone)",
    body=lambda: models.MemberPatch,
    response=lambda: models.MemberOut,
    tags=("members",),
)
def members_update(call: Call) -> Reply:
    stored = views.update_member(
        get_runtime(),
        call.caller,
        call.route_id("familyId"),
        call.route_id("memberId"),
        call.json(models.MemberPatch),
        call.header("if-match"),
    )
    return record_reply(stored)


@endpoint(
    bp,
    name="links_list",
    route=LINKS,
    methods=["GET"],
    summary="The sign-ins linked to a member, newest first (staff)",
    response=lambda: models.LinkOut,
    tags=("members",),
)
def links_list(call: Call) -> Reply:
    found = family_links.list_links(
        get_runtime(),
        call.caller,
        call.route_id("familyId"),
        call.route_id("memberId"),
        *call.page(),
    )
    return Reply({"items": found.documents, "next": found.next})


@endpoint(
    bp,
    name="links_revoke",
    route=LINKS + "/{linkId}",
    methods=["DELETE"],
    summary="Revoke a sign-in: it loses the family at once",
    status=204,
    tags=("members",),
    never=(412,),  # a link has no version: no If-Match
)
def links_revoke(call: Call) -> Reply:
    family_links.revoke_link(
        get_runtime(),
        call.caller,
        call.route_id("familyId"),
        call.route_id("memberId"),
        call.route_id("linkId"),
    )
    return Reply(None, 204)


@endpoint(
    bp,
    name="invitations_create",
    route="families/{familyId}/invitations",
    methods=["POST"],
    summary="Invite a member to sign in",
    body=lambda: models.InvitationIn,
    response=lambda: models.InvitationOut,
    status=201,
    tags=("invitations",),
)
def invitations_create(call: Call) -> Reply:
    runtime = get_runtime()
    created = invitations.create_invitation(
        runtime,
        call.caller,
        call.route_id("familyId"),
        call.json(models.InvitationIn),
        notify=invitations.text_invitation(runtime),
    )
    return Reply(created, 201)


@endpoint(
    bp,
    name="invitations_redeem",
    route="invitations/redeem",
    methods=["POST"],
    summary="Link the signed-in family member to their family",
    body=lambda: models.RedeemIn,
    response=lambda: models.RedeemOut,
    tags=("invitations",),
    statuses=(404,),
    example={"code": "K7QZ3MXP2R"},
)
def invitations_redeem(call: Call) -> Reply:
    return Reply(
        invitations.redeem_invitation(get_runtime(), call.caller, call.json(models.RedeemIn))
    )


@endpoint(
    bp,
    name="audit_list",
    route="families/{familyId}/audit",
    methods=["GET"],
    summary="Who did what to this family's records, newest first",
    tags=("audit",),
)
def audit_list(call: Call) -> Reply:
    found = case.audit_page(
        get_runtime(),
        call.caller,
        call.route_id("familyId"),
        *call.page(),
    )
    shown = lambda d: models.AuditEventOut.model_validate(d).model_dump(mode="json", by_alias=True)  # noqa: E731
    return listing(found.documents, shown, found.next)


@endpoint(
    bp,
    name="staff_put",
    route="staff/{oid}",
    methods=["PUT"],
    summary="Create or replace a member of staff (Admin)",
    body=lambda: models.StaffIn,
    response=lambda: models.StaffOut,
    tags=("staff",),
    path={"oid": UUID},
    example={"displayName": "Sam Patel", "teamIds": ["north-east"], "phone": "+447700900321"},
)
def staff_put(call: Call) -> Reply:
    require_role(call.caller, "Admin")
    stored, created = staff.put_staff(
        get_runtime(), call.caller, call.route("oid"), call.json(models.StaffIn)
    )
    return record_reply(staff.present_staff(stored), 201 if created else 200)


@endpoint(
    bp,
    name="staff_list",
    route="staff",
    methods=["GET"],
    summary="List staff (Admin)",
    tags=("staff",),
)
def staff_list(call: Call) -> Reply:
    found = staff.list_staff(
        get_runtime(),
        call.caller,
        *call.page(),
    )
    return listing(found.documents, staff.present_staff, found.next)
