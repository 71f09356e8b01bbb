"""Rules particular to some kinds: members, comments, agenda items. The rest is generic."""

from __future__ import annotations

from typing import Any

from shared.access import Caller, FamilyAccess, can_see, manages, reject_fields
from shared.errors import ConflictError, ForbiddenError, NotFoundError, PreconditionFailedError
from shared.ids import canonical_id, new_id
from shared.opaque import sealed_page
from shared.ports.runtime import Runtime
from shared.records import models
from shared.records.family_access import access_family
from shared.records.kinds import AGENDA, COMMENT, COMMENT_TARGETS, KINDS, MEDIA, MEMBER, NOTE, Kind
from shared.records.service import Created, Listed, RecordService, fields_of, new_fields, present
from shared.retention.service import MEMBER_FIELDS, brings_disposal_near, refresh_retention

MEMBER_SELF_FIELDS = {"smsReminders", "phone"}
NEARER_DISPOSAL = (
    "Only team managers and the head of service may change a child's dates so that the "
    "family's records are kept for less time."
)
APPEND_RETRIES = 5


def present_for(
    runtime: Runtime, access: FamilyAccess, kind: Kind, document: dict[str, Any]
) -> dict[str, Any]:
    """A record as this caller may see it: family members never see others' phone numbers,
    nor a transcript staff have not approved; ready media carry short-lived links, issued
    through ``runtime``."""
    shown = present(kind, document)
    if kind is MEDIA:
        from shared.services.media import media_view

        return media_view(runtime, access, shown, document)
    if kind is MEMBER:
        shown["linked"] = bool(document.get("identity"))
        if not access.is_staff and document["id"] != access.member_id:
            for private in ("phone", "email", "dateOfBirth", "dateOfDeath"):
                shown.pop(private, None)
    if kind is NOTE and not access.is_staff and "disputes" in shown:
        from shared.services.corrections import own_disputes

        shown["disputes"] = own_disputes(access, shown["disputes"])
        shown["disputed"] = bool(shown["disputes"])
    return shown


# --- Members ----------------------------------------------------------------------------------


def create_member(
    runtime: Runtime,
    caller: Caller,
    family_id: str,
    body: models.MemberIn,
    *,
    access: FamilyAccess | None = None,
) -> Created:
    service = RecordService(runtime)
    if access is None:
        access = service.access(caller, family_id, MEMBER)
    if not access.is_staff:
        raise ForbiddenError("Family members may not add people to the family.")
    if body.child:
        candidate = {**new_fields(body), "id": body.id}
        refuse_nearer_disposal(runtime, access, candidate, set(fields_of(body)))
    created = service.create(caller, MEMBER, family_id, body, access=access)
    if created.created and created.document.get("child"):
        refresh_retention(runtime, access.family_id)
    return created


def update_member(
    runtime: Runtime,
    caller: Caller,
    family_id: str,
    member_id: str,
    patch: models.MemberPatch,
    if_match: str | None,
    *,
    access: FamilyAccess | None = None,
) -> dict[str, Any]:
    service = RecordService(runtime)
    if access is None:
        access = service.access(caller, family_id, MEMBER)
    sent = fields_of(patch)
    current = service.find(access, MEMBER, member_id)
    if not access.is_staff:
        if current["id"] != access.member_id:
            raise ForbiddenError("Family members may change only their own details.")
        reject_fields(set(sent), set(sent) - MEMBER_SELF_FIELDS, "Family members")
    service.check_version(MEMBER, current, if_match)
    merged = {**current, **sent}
    for name, value in sent.items():
        if value is None:
            merged.pop(name, None)
    service.validate_merged(MEMBER, merged)
    if any(current.get(name) != merged.get(name) for name in MEMBER_FIELDS):
        refuse_nearer_disposal(runtime, access, merged, set(sent))
    merged.update(service.stamp(caller))
    stored = service.replace(access, MEMBER, merged, current, "update")
    if any(current.get(name) != stored.get(name) for name in MEMBER_FIELDS):
        refresh_retention(runtime, access.family_id)
    return stored


def refuse_nearer_disposal(
    runtime: Runtime, access: FamilyAccess, member: dict[str, Any], sent: set[str]
) -> None:
    """A child's dates decide how long the family is kept: only its manager may shorten that."""
    if manages(access.caller, access.family):
        return
    family = runtime.records.read(access.family_id, access.family_id) or access.family
    if brings_disposal_near(runtime, family, member):
        raise ForbiddenError(
            NEARER_DISPOSAL,
            errors=[
                {"loc": ["body", name], "type": "forbidden_field"}
                for name in sorted(sent & MEMBER_FIELDS)
            ],
        )


# --- Comments ---------------------------------------------------------------------------------


def comment_target(
    service: RecordService, access: FamilyAccess, target_type: str, target_id: str
) -> dict[str, Any]:
    record_type = COMMENT_TARGETS.get(target_type)
    if record_type is None:
        raise NotFoundError("Comments belong to notes, agendas, plans or media.")
    kind = KINDS.get(record_type)
    canonical = canonical_id(target_id)
    target = service.store.read(access.family_id, canonical) if canonical else None
    if target is None or target.get("type") != record_type or not can_see(access, target):
        raise NotFoundError(f"No such {kind.label if kind else record_type}.")
    return target


def create_comment(
    runtime: Runtime,
    caller: Caller,
    family_id: str,
    target_type: str,
    target_id: str,
    body: models.CommentIn,
    *,
    access: FamilyAccess | None = None,
) -> Created:
    service = RecordService(runtime)
    if access is None:
        access = service.access(caller, family_id, COMMENT)
    target = comment_target(service, access, target_type, target_id)
    extra = {
        "targetType": target_type,
        "targetId": target["id"],
        "visibility": target.get("visibility", "family"),
    }
    made = service.create(caller, COMMENT, family_id, body, extra=extra, access=access)
    if not made.created:
        return made
    return Created(service.align_comment(made.document), True)


def list_comments(
    runtime: Runtime,
    caller: Caller,
    family_id: str,
    target_type: str,
    target_id: str,
    limit: int,
    token: str | None,
    *,
    access: FamilyAccess | None = None,
) -> Listed:
    service = RecordService(runtime)
    if access is None:
        access = service.access(caller, family_id, COMMENT)
    target = comment_target(service, access, target_type, target_id)
    on_target = {"targetType": target_type, "targetId": target["id"]}
    return service.list(caller, COMMENT, family_id, limit, token, extra=on_target, access=access)


# --- Agenda items -----------------------------------------------------------------------------


def add_agenda_item(
    runtime: Runtime,
    caller: Caller,
    family_id: str,
    agenda_id: str,
    body: models.AgendaItemIn,
    *,
    access: FamilyAccess | None = None,
) -> tuple[dict[str, Any], bool]:
    """Append an item; a retry with the same item id and text is a no-op (200)."""
    service = RecordService(runtime)
    if access is None:
        access = service.access(caller, family_id, AGENDA)
    item_id = body.id or new_id()
    for _ in range(APPEND_RETRIES):
        agenda = service.find(access, AGENDA, agenda_id)
        existing = next((i for i in agenda.get("items", []) if i["id"] == item_id), None)
        if existing is not None:
            if existing["text"] == body.text:
                return agenda, False
            raise ConflictError("An item with this id already exists on the agenda.")
        item = {"id": item_id, "text": body.text, "done": False, "addedBy": caller.actor}
        updated = {**agenda, "items": [*agenda.get("items", []), item], **service.stamp(caller)}
        service.validate_merged(AGENDA, updated)
        try:
            return service.replace(access, AGENDA, updated, agenda, "update"), True
        except PreconditionFailedError:
            continue
    raise PreconditionFailedError("The agenda is changing too fast; try again.")


def audit_page(
    runtime: Runtime, caller: Caller, family_id: str, limit: int, token: str | None
) -> Listed:
    access = access_family(runtime, caller, family_id, "audit")
    if not access.is_staff or not caller.principal.has_role("TeamManager", "HeadOfService"):
        raise ForbiddenError("Only team managers and the head of service read the audit trail.")
    scope = f"audit|{family_id}|{caller.principal.key}"
    items, following = sealed_page(
        runtime.signer, scope, token, lambda after: runtime.audit.page(family_id, limit, after)
    )
    runtime.audit.record(caller, "list", family_id, "audit", None)
    return Listed(items, following)
