"""In my words: family members write, staff acknowledge, managers see what waits too long.

- Only family members write entries (staff 403): the entry is theirs, stored with the member
  who wrote it (``memberId``) and ``visibility: "family"``, so staff and the whole family see it.
- ``mediaIds`` name the family's own uploads: media of this family created by a family member,
  not deleted and shared with the family. Any other id is one 422 at its index, the same
  whatever the reason (another family's, staff's, deleted, never existed), as references are.
- Entries are never edited. The member who wrote one (from any of their sign-ins) withdraws it
  with ``DELETE``; staff and other members get 403, outsiders 404. A withdrawn entry leaves the
  lists and reads but stays held, like any deleted record (the records duty).
- Staff with access acknowledge an entry once: ``acknowledgedBy``/``At`` are set by the first,
  and a later acknowledgement answers the entry as it is.
- ``GET /words/unacknowledged`` lists, oldest first, the live entries nobody acknowledged within
  ``WORDS_ACK_DAYS`` of the families a team manager manages (their teams'); the head of service
  sees every family's. Other roles 403.

Everything is audited, as for any case record.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shared.access import Caller, FamilyAccess, family_may_see, require_role
from shared.errors import ForbiddenError, PreconditionFailedError, ValidationError
from shared.opaque import sealed_page
from shared.ports.records import Reach
from shared.ports.runtime import Runtime
from shared.records.kinds import WORDS
from shared.records.service import Created, Listed, RecordService, body_id, present
from shared.records.store import now_iso
from shared.records.words import WordsIn
from shared.services.case import present_for

ACKNOWLEDGE_TRIES = 5
NOT_THE_FAMILYS_MEDIA = (
    "Attach media your family uploaded: each id must name a photo, video or recording of this "
    "family that a family member uploaded."
)


def write(runtime: Runtime, caller: Caller, family_id: str, body: WordsIn) -> Created:
    """A new entry as the writer sees it (201), or the stored one for a repeated create."""
    access = RecordService(runtime).access(caller, family_id, WORDS)
    made = create_words(runtime, caller, family_id, body, access)
    return Created(present_for(runtime, access, WORDS, made.document), made.created)


def create_words(
    runtime: Runtime,
    caller: Caller,
    family_id: str,
    body: WordsIn,
    access: FamilyAccess | None = None,
) -> Created:
    service = RecordService(runtime)
    access = access or service.access(caller, family_id, WORDS)
    if access.is_staff:
        raise ForbiddenError("Words entries are written by family members, in their own words.")
    try:
        check_media(runtime, access, body.media_ids)
    except ValidationError:
        # A retry of a create whose media has gone since still gets its first answer.
        chosen = body_id(body)
        if chosen is None or runtime.records.read(access.family_id, chosen) is None:
            raise
    extra = {"visibility": "family", "memberId": access.member_id}
    return service.create(caller, WORDS, family_id, body, extra=extra, access=access)


def check_media(runtime: Runtime, access: FamilyAccess, media_ids: list[str]) -> None:
    problems = []
    for index, media_id in enumerate(media_ids):
        media = runtime.records.read(access.family_id, media_id)
        own = (
            media is not None
            and media.get("type") == "media"
            and not media.get("deleted")
            and (media.get("createdBy") or {}).get("kind") == "family"
            and family_may_see(media)
        )
        if not own:
            problems.append({"loc": ["body", "mediaIds", index], "type": "unknown_reference"})
    if problems:
        raise ValidationError(NOT_THE_FAMILYS_MEDIA, problems)


def withdraw(runtime: Runtime, caller: Caller, family_id: str, words_id: str) -> None:
    """The author's withdrawal (a soft delete); no ``If-Match``: an entry never changes but by
    its acknowledgement, which a withdrawal need not wait for."""
    RecordService(runtime).delete(caller, WORDS, family_id, words_id, None)


def acknowledge(runtime: Runtime, caller: Caller, family_id: str, words_id: str) -> dict[str, Any]:
    """The entry with ``acknowledgedBy``/``At``: set by the first acknowledgement only."""
    service = RecordService(runtime)
    access = service.access(caller, family_id, WORDS)
    if not access.is_staff:
        raise ForbiddenError("Staff acknowledge a family's words.")
    for _ in range(ACKNOWLEDGE_TRIES):
        current = service.find(access, WORDS, words_id)
        if current.get("acknowledgedAt"):
            service.audit.record(
                caller,
                "acknowledge",
                access.family_id,
                WORDS.record_type,
                current["id"],
                "replayed",
            )
            return present_for(runtime, access, WORDS, current)
        moment = now_iso(runtime.clock())
        acknowledged = {
            **current,
            "acknowledgedAt": moment,
            "acknowledgedBy": caller.actor,
            **service.stamp(caller),
        }
        try:
            stored = service.replace(access, WORDS, acknowledged, current, "acknowledge")
        except PreconditionFailedError:
            continue
        return present_for(runtime, access, WORDS, stored)
    raise PreconditionFailedError("The entry is changing too fast; try again.")


def unacknowledged(runtime: Runtime, caller: Caller, limit: int, token: str | None) -> Listed:
    """Entries waiting longer than ``WORDS_ACK_DAYS`` in the families the caller manages."""
    require_role(caller, "TeamManager", "HeadOfService")
    if caller.principal.has_role("HeadOfService"):
        reach = Reach(everyone=True)
    else:
        reach = Reach(team_ids=tuple(sorted(caller.team_ids)))
    family_ids = (
        sorted(str(f["id"]) for f in runtime.records.families(reach))
        if reach.everyone or reach.team_ids
        else []
    )
    days = runtime.settings.words_ack_days
    before = now_iso(runtime.clock() - timedelta(days=days))
    scope = f"words-unacknowledged|{caller.principal.key}"
    items, following = sealed_page(
        runtime.signer,
        scope,
        token,
        lambda after: runtime.records.unacknowledged_words(family_ids, before, limit, after),
    )
    runtime.audit.record_each_family(
        caller, "list", sorted({str(item["familyId"]) for item in items}), WORDS.record_type
    )
    return Listed([present(WORDS, item) for item in items], following)
