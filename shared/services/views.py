"""What the edge asks of case records: one call a request. Each function works out the caller's
access to the family once, does the work, and returns the records as this caller may see them
(``case.present_for``). The services below take the access they are given, so a request never
reads the family or the caller's memberships twice."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from shared.records.kinds import AGENDA, COMMENT, MEDIA, MEMBER, NOTE, Kind
from shared.records.service import Created, Listed, RecordService
from shared.services import case, corrections
from shared.services import media as media_service

if TYPE_CHECKING:
    from shared.access import Caller, FamilyAccess
    from shared.models import InputModel
    from shared.ports import Runtime
    from shared.records import models


def _shown(runtime: Runtime, access: FamilyAccess, kind: Kind, found: Listed) -> Listed:
    return Listed([case.present_for(runtime, access, kind, d) for d in found.documents], found.next)


def _created(runtime: Runtime, access: FamilyAccess, kind: Kind, made: Created) -> Created:
    return Created(case.present_for(runtime, access, kind, made.document), made.created)


# --- any kind of record -----------------------------------------------------------------------


def list_records(
    runtime: Runtime,
    caller: Caller,
    kind: Kind,
    family_id: str,
    limit: int,
    token: str | None,
    filters: Mapping[str, str],
) -> Listed:
    service = RecordService(runtime)
    access = service.access(caller, family_id, kind)
    found = service.list(caller, kind, family_id, limit, token, dict(filters), access=access)
    return _shown(runtime, access, kind, found)


def create_record(
    runtime: Runtime, caller: Caller, kind: Kind, family_id: str, body: InputModel
) -> Created:
    service = RecordService(runtime)
    access = service.access(caller, family_id, kind)
    made = service.create(caller, kind, family_id, body, access=access)
    return _created(runtime, access, kind, made)


def read_record(
    runtime: Runtime, caller: Caller, kind: Kind, family_id: str, record_id: str
) -> dict[str, Any]:
    """One record, its read audited."""
    service = RecordService(runtime)
    access = service.access(caller, family_id, kind)
    document = service.find(access, kind, record_id)
    service.audit.record(caller, "read", family_id, kind.record_type, document["id"])
    return case.present_for(runtime, access, kind, document)


def update_record(
    runtime: Runtime,
    caller: Caller,
    kind: Kind,
    family_id: str,
    record_id: str,
    patch: InputModel,
    if_match: str | None,
) -> dict[str, Any]:
    service = RecordService(runtime)
    access = service.access(caller, family_id, kind)
    stored = service.update(caller, kind, family_id, record_id, patch, if_match, access=access)
    return case.present_for(runtime, access, kind, stored)


# --- records with rules of their own ----------------------------------------------------------


def create_member(
    runtime: Runtime, caller: Caller, family_id: str, body: models.MemberIn
) -> Created:
    access = RecordService(runtime).access(caller, family_id, MEMBER)
    made = case.create_member(runtime, caller, family_id, body, access=access)
    return _created(runtime, access, MEMBER, made)


def update_member(
    runtime: Runtime,
    caller: Caller,
    family_id: str,
    member_id: str,
    patch: models.MemberPatch,
    if_match: str | None,
) -> dict[str, Any]:
    access = RecordService(runtime).access(caller, family_id, MEMBER)
    stored = case.update_member(
        runtime, caller, family_id, member_id, patch, if_match, access=access
    )
    return case.present_for(runtime, access, MEMBER, stored)


def create_comment(
    runtime: Runtime,
    caller: Caller,
    family_id: str,
    target_type: str,
    target_id: str,
    body: models.CommentIn,
) -> Created:
    access = RecordService(runtime).access(caller, family_id, COMMENT)
    made = case.create_comment(
        runtime, caller, family_id, target_type, target_id, body, access=access
    )
    return _created(runtime, access, COMMENT, made)


def list_comments(
    runtime: Runtime,
    caller: Caller,
    family_id: str,
    target_type: str,
    target_id: str,
    limit: int,
    token: str | None,
) -> Listed:
    access = RecordService(runtime).access(caller, family_id, COMMENT)
    found = case.list_comments(
        runtime, caller, family_id, target_type, target_id, limit, token, access=access
    )
    return _shown(runtime, access, COMMENT, found)


def add_agenda_item(
    runtime: Runtime, caller: Caller, family_id: str, agenda_id: str, body: models.AgendaItemIn
) -> tuple[dict[str, Any], bool]:
    """The agenda with the item, and whether it was added now."""
    access = RecordService(runtime).access(caller, family_id, AGENDA)
    stored, added = case.add_agenda_item(runtime, caller, family_id, agenda_id, body, access=access)
    return case.present_for(runtime, access, AGENDA, stored), added


def add_dispute(
    runtime: Runtime, caller: Caller, family_id: str, note_id: str, body: models.DisputeIn
) -> tuple[dict[str, Any], bool]:
    """The note with the dispute, and whether it was added now."""
    note, access, added = corrections.add_dispute(runtime, caller, family_id, note_id, body)
    return case.present_for(runtime, access, NOTE, note), added


def create_media(
    runtime: Runtime, caller: Caller, family_id: str, body: models.MediaIn
) -> tuple[Created, dict[str, Any] | None]:
    """The media record and, while one is still useful, its upload slot."""
    made, access, upload = media_service.create_slot(runtime, caller, family_id, body)
    return _created(runtime, access, MEDIA, made), upload
