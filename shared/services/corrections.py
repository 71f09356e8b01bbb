"""Corrections keep the original: a note's earlier versions (staff), and disputes (families).

- Versions: see ``shared/records/versions.py`` for when an edit keeps the version it replaces.
  Staff list them newest first; a family member who can see the note is refused (403).
- Disputes: a family member who can see a note that someone else wrote may dispute it with a
  statement of their own. The statement is stored on the note (``disputes``; ``disputed``), so
  it travels with the note through sync, the export and every later edit: no field a client
  can write reaches it, so no edit removes it and there is no way to delete one. Staff see
  every dispute; a family member sees their own. Adding one does not change ``updatedAt`` or
  ``updatedBy``: the note's content is not changed by it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.access import Caller, FamilyAccess
from shared.errors import ConflictError, ForbiddenError, PreconditionFailedError
from shared.ids import new_id
from shared.opaque import sealed_page
from shared.ports.records import Listing
from shared.ports.runtime import Runtime
from shared.records.kinds import NOTE
from shared.records.models import DisputeIn
from shared.records.service import Listed, RecordService
from shared.records.store import now_iso, version_of
from shared.records.versions import version_type

DISPUTE_RETRIES = 5


def is_own(access: FamilyAccess, actor: Mapping[str, Any]) -> bool:
    return actor.get("id") == access.caller.id and actor.get("kind") == access.caller.principal.kind


def own_disputes(access: FamilyAccess, disputes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in disputes if is_own(access, d.get("createdBy") or {})]


def add_dispute(
    runtime: Runtime, caller: Caller, family_id: str, note_id: str, body: DisputeIn
) -> tuple[dict[str, Any], FamilyAccess, bool]:
    """The note with the dispute, the caller's access, and whether it was added now (a retry
    with the same id and statement adds nothing)."""
    service = RecordService(runtime)
    access = service.access(caller, family_id, NOTE)
    if access.is_staff:
        raise ForbiddenError("Staff correct a note by editing it; family members dispute it.")
    dispute_id = body.id or new_id()
    for _ in range(DISPUTE_RETRIES):
        note = service.find(access, NOTE, note_id)
        if is_own(access, note.get("createdBy") or {}):
            raise ForbiddenError("You wrote this note: edit it instead of disputing it.")
        disputes = list(note.get("disputes") or [])
        existing = next((d for d in disputes if d["id"] == dispute_id), None)
        if existing is not None:
            if existing["statement"] == body.statement and is_own(access, existing["createdBy"]):
                return note, access, False
            raise ConflictError("A dispute with this id already exists.")
        dispute = {
            "id": dispute_id,
            "statement": body.statement,
            "createdAt": now_iso(runtime.clock()),
            "createdBy": caller.actor,
        }
        updated = {**note, "disputes": [*disputes, dispute], "disputed": True}
        try:
            return service.replace(access, NOTE, updated, note, "dispute"), access, True
        except PreconditionFailedError:
            continue
    raise PreconditionFailedError("The note is changing too fast; try again.")


def list_versions(
    runtime: Runtime, caller: Caller, family_id: str, note_id: str, limit: int, token: str | None
) -> Listed:
    """Earlier versions of a note, newest first (staff)."""
    service = RecordService(runtime)
    access = service.access(caller, family_id, NOTE)
    note = service.find(access, NOTE, note_id)
    if not access.is_staff:
        raise ForbiddenError("Only staff see a note's earlier versions.")
    scope = f"versions|{access.family_id}|{note['id']}|{caller.principal.key}"
    kept = version_type(NOTE.record_type)
    earlier = Listing(
        family_id=access.family_id,
        record_type=kept,
        live=False,
        equal=(("recordId", note["id"]),),
        unequal=(("recordVersion", version_of(note)),),
    )
    items, following = sealed_page(
        runtime.signer, scope, token, lambda after: runtime.records.list_page(earlier, limit, after)
    )
    runtime.audit.record(caller, "list", access.family_id, kept, note["id"])
    return Listed(items, following)
