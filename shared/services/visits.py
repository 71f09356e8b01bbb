"""Statutory visit recording beyond what every record shares (the ``outcome`` and its rules are
the visit kind's own, ``shared.records.kinds``, so REST and sync apply them alike):

- **Sign-off**: a manager of the family (a team manager of its team, or the head of service)
  signs off a visit once its outcome is recorded (409 before). A sign-off is made once; asking
  again answers the visit as signed off. A changed outcome needs signing off again. Through sync
  a sign-off names the version the manager read (``baseVersion``): it is a conflict when the
  outcome has changed since, as ``If-Match`` makes it a 412 over REST.
- **The case record**: the visit as the case management system wants it, children by their
  ``cmsId``, and the case note to paste (``shared.records.case_note``); staff only.
- **Recorded in the CMS**: staff mark once that the visit is in the case management system
  (``recordedInCmsAt``/``By``); asking again answers the same.

Each is audited: ``sign-off`` and ``record-in-cms`` like any write (before it is made), a
repeat as ``replayed``, the case record as a ``read`` of the visit with detail ``case-record``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from shared.access import Caller, FamilyAccess, manages, require_staff
from shared.directory import staff_profile_id
from shared.errors import ConflictError, ForbiddenError, PreconditionFailedError
from shared.ports.runtime import Runtime
from shared.records.case_note import case_note
from shared.records.kinds import VISIT
from shared.records.service import RecordService, present
from shared.records.store import changed_since, now_iso, version_of

ONCE_ATTEMPTS = 3
NO_OUTCOME_SIGN_OFF = "Record the visit's outcome before it is signed off."
NO_OUTCOME_CMS = "Record the visit's outcome before it goes to the case management system."
MANAGERS_SIGN_OFF = "Only team managers and the head of service sign off a visit."
OUTCOME_CHANGED = "The visit's outcome changed since you read it: read it again to sign it off."


def sign_off(
    runtime: Runtime,
    caller: Caller,
    family_id: str,
    visit_id: str,
    if_match: str | None,
    base_version: str | None = None,
) -> tuple[dict[str, Any], FamilyAccess]:
    """The visit signed off by the caller, or as signed off before."""
    service = RecordService(runtime)
    access = service.access(caller, family_id, VISIT)
    visit = service.find(access, VISIT, visit_id)
    if not manages(caller, access.family):
        raise ForbiddenError(MANAGERS_SIGN_OFF)
    service.check_version(VISIT, visit, if_match)
    if base_version is not None and version_of(visit) != base_version:
        theirs = changed_since(visit, base_version)
        if theirs is None or "outcome" in theirs:
            raise PreconditionFailedError(OUTCOME_CHANGED, current=present(VISIT, visit))

    settle = _stamped_once(runtime, caller, "signedOff", NO_OUTCOME_SIGN_OFF)
    return _once(service, access, visit, "sign-off", settle), access


def mark_recorded_in_cms(
    runtime: Runtime, caller: Caller, family_id: str, visit_id: str
) -> tuple[dict[str, Any], FamilyAccess]:
    """The visit marked as recorded in the case management system, once."""
    service = RecordService(runtime)
    access = service.access(caller, family_id, VISIT)
    visit = service.find(access, VISIT, visit_id)
    require_staff(access, "record a visit in the case management system")

    settle = _stamped_once(runtime, caller, "recordedInCms", NO_OUTCOME_CMS)
    return _once(service, access, visit, "record-in-cms", settle), access


def _stamped_once(
    runtime: Runtime, caller: Caller, stamp: str, no_outcome: str
) -> Callable[[Mapping[str, Any]], dict[str, Any] | None]:
    """Sets ``<stamp>At`` and ``<stamp>By`` on a visit that has an outcome (409 before one),
    unless they are set already (then nothing changes)."""

    def settle(current: Mapping[str, Any]) -> dict[str, Any] | None:
        if current.get("outcome") is None:
            raise ConflictError(no_outcome, current=present(VISIT, current))
        if current.get(f"{stamp}At"):
            return None
        moment = now_iso(runtime.clock())
        return {**current, f"{stamp}At": moment, f"{stamp}By": caller.actor}

    return settle


def _once(
    service: RecordService,
    access: FamilyAccess,
    visit: dict[str, Any],
    action: str,
    settle: Callable[[Mapping[str, Any]], dict[str, Any] | None],
) -> dict[str, Any]:
    """Write what ``settle`` makes of the visit, or, when it makes nothing (done before), answer
    the visit as it is. A write that races another reads the visit again and settles again."""
    current = visit
    for _ in range(ONCE_ATTEMPTS):
        changed = settle(current)
        if changed is None:
            caller, family_id = access.caller, access.family_id
            service.audit.record(caller, action, family_id, "visit", current["id"], "replayed")
            return current
        changed.update(service.stamp(access.caller))
        try:
            return service.replace(access, VISIT, changed, current, action)
        except PreconditionFailedError:
            current = service.find(access, VISIT, str(current["id"]))
    raise PreconditionFailedError("The visit is changing too fast; try again.")


def case_record(
    runtime: Runtime, caller: Caller, family_id: str, visit_id: str
) -> tuple[dict[str, Any], FamilyAccess]:
    """``{visit, children, text}`` for the case management system; ``visit`` as stored."""
    service = RecordService(runtime)
    access = service.access(caller, family_id, VISIT)
    visit = service.find(access, VISIT, visit_id)
    require_staff(access, "read a visit's case record")
    outcome = visit.get("outcome")
    if outcome is None:
        raise ConflictError(NO_OUTCOME_CMS, current=present(VISIT, visit))
    found = runtime.records.about_visit(access.family_id, str(visit["id"]))
    members = {str(m["id"]): m for m in found if m.get("type") == "member"}
    papers = [d for d in found if d.get("type") != "member"]
    names = {member_id: str(m.get("displayName", "")) for member_id, m in members.items()}
    children = [
        {
            "memberId": child["memberId"],
            "name": names.get(child["memberId"], ""),
            "cmsId": members.get(child["memberId"], {}).get("cmsId"),
            "seen": child["seen"],
            "seenAlone": child["seenAlone"],
            "bedroomSeen": child.get("bedroomSeen"),
            "notSeenAloneReason": child.get("notSeenAloneReason"),
        }
        for child in outcome.get("childrenSeen") or []
    ]
    text = case_note(visit, worker_name(runtime, visit), names, papers)
    service.audit.record(
        caller, "read", access.family_id, VISIT.record_type, visit["id"], detail="case-record"
    )
    return {"visit": visit, "children": children, "text": text}, access


def worker_name(runtime: Runtime, visit: Mapping[str, Any]) -> str | None:
    """The visit's worker as the staff directory names them; without a ``workerId``, whoever
    made the visit, if staff."""
    creator = visit.get("createdBy") or {}
    made_by_staff = creator.get("id") if creator.get("kind") == "staff" else None
    worker = visit.get("workerId") or made_by_staff
    if worker is None:
        return None
    profile = runtime.directory.read(staff_profile_id(runtime.settings.staff_tenant_id, worker))
    if profile and profile.get("displayName"):
        return str(profile["displayName"])
    return str(creator["name"]) if creator.get("id") == worker else None
