"""Families: created by social workers and team managers, allocated to workers and a team.

What decides how long a family is kept (``retentionClass``, ``closedAt``, ``adoptionOrderAt``,
``legalHold``) and who is allocated to it (``teamId``, ``workerIds``) is set only by a manager of
the family (``shared.access.manages``), at creation as on change; anyone else gets a 403 naming
the fields. A social worker's new family is allocated to them alone. Who may be allocated, and
to which team a family may move: ``shared.services.allocation``.

As for case records (``shared.records.service``), a write's audit event is appended before the
write, so an outage in between never leaves a change unaudited.
"""

from __future__ import annotations

from typing import Any

from shared.access import Caller, require_manager_for, require_role
from shared.errors import ConflictError, ForbiddenError, PreconditionFailedError, ValidationError
from shared.ids import new_id
from shared.opaque import sealed_page
from shared.ports.errors import AlreadyExistsError, VersionMismatchError
from shared.ports.records import Reach
from shared.ports.runtime import Runtime
from shared.records.family_access import access_family, forget_family
from shared.records.models import FamilyIn, FamilyOut, FamilyPatch
from shared.records.service import Created, Listed, fields_of, new_fields
from shared.records.store import content_hash, etag_matches, now_iso, version_of
from shared.retention.rules import retention_for
from shared.retention.service import FAMILY_FIELDS, retention
from shared.services.allocation import check_allocation, check_team

ALLOCATION_FIELDS = {"workerIds", "teamId"}
MANAGER_FIELDS = {*ALLOCATION_FIELDS, *FAMILY_FIELDS, "legalHold"}
REMOVABLE_FIELDS = {"closedAt", "adoptionOrderAt"}
STAFF_ONLY_FIELDS = (
    "workerIds",
    "teamId",
    "retentionClass",
    "closedAt",
    "adoptionOrderAt",
    "legalHold",
    "retainUntil",
    "retentionPending",
)


PARTNER_FIELDS = ("id", "displayName", "teamId")


def present_family(document: dict[str, Any], staff: bool = True) -> dict[str, Any]:
    shaped = FamilyOut.model_validate({**document, "version": version_of(document)})
    output = shaped.model_dump(mode="json", by_alias=True, exclude_none=True)
    if not staff:
        for name in STAFF_ONLY_FIELDS:
            output.pop(name, None)
    return output


def family_version(document: dict[str, Any]) -> str:
    """The family's version (its ETag), which a partner is sent though their view has none."""
    return version_of(document)


def partner_family(document: dict[str, Any]) -> dict[str, Any]:
    """The family as a partner agency sees it: its id, name and team only."""
    return {name: document[name] for name in PARTNER_FIELDS if name in document}


def family_for(caller: Caller, document: dict[str, Any]) -> dict[str, Any]:
    """The family as this caller sees it."""
    if caller.is_partner:
        return partner_family(document)
    return present_family(document, staff=not caller.is_family)


def changed_from_default(body: FamilyIn) -> dict[str, Any]:
    """What a new family's body sets: a field sent with its default value (as clients generated
    from the OpenAPI document send every field that has one) sets no more than leaving it out."""
    defaults = {
        info.alias or name: info.get_default(call_default_factory=True)
        for name, info in FamilyIn.model_fields.items()
    }
    return {name: value for name, value in fields_of(body).items() if value != defaults[name]}


def create_family(runtime: Runtime, caller: Caller, body: FamilyIn) -> Created:
    require_role(caller, "SocialWorker", "TeamManager")
    if body.team_id not in caller.team_ids:
        raise ForbiddenError("You may only create families in your own teams.")
    sent_fields = set(changed_from_default(body)) - {"teamId"}
    require_manager_for(caller, {"teamId": body.team_id}, sent_fields, MANAGER_FIELDS)
    check_allocation(runtime, caller, body.team_id, body.worker_ids)
    sent = new_fields(body)
    request_hash = content_hash({"type": "family", "by": caller.id, "fields": sent})
    family_id = body.id or new_id()
    moment = now_iso(runtime.clock())
    workers = list(dict.fromkeys([*(body.worker_ids or []), caller.id]))
    document = {
        **sent,
        "id": family_id,
        "familyId": family_id,
        "type": "family",
        "workerIds": workers,
        "createdAt": moment,
        "createdBy": caller.actor,
        "updatedAt": moment,
        "updatedBy": caller.actor,
        "deleted": False,
        "legalHold": False,
        "requestHash": request_hash,
    }
    years = runtime.settings.retention_default_years
    document.update(retention_for(document, [], years).fields())
    runtime.audit.record(caller, "create", family_id, "family", family_id)
    try:
        stored = runtime.records.create(document)
    except AlreadyExistsError as exists:
        existing = exists.existing
        if existing is not None and existing.get("requestHash") == request_hash:
            runtime.audit.record(caller, "create", family_id, "family", family_id, "replayed")
            return Created(existing, False)
        runtime.audit.record(caller, "create", family_id, "family", family_id, "conflict")
        raise ConflictError("A family with this id already exists.") from None
    forget_family(runtime, family_id)
    return Created(stored, True)


def get_family(runtime: Runtime, caller: Caller, family_id: str) -> dict[str, Any]:
    access = access_family(runtime, caller, family_id, "family", fresh=True)
    runtime.audit.record(caller, "read", family_id, "family", family_id)
    return dict(access.family)


def update_family(
    runtime: Runtime, caller: Caller, family_id: str, patch: FamilyPatch, if_match: str | None
) -> dict[str, Any]:
    access = access_family(runtime, caller, family_id, "family", fresh=True)
    if not access.is_staff:
        raise ForbiddenError(f"{access.who} may not change the family record.")
    sent = fields_of(patch)
    require_manager_for(caller, access.family, set(sent), MANAGER_FIELDS)
    current = dict(access.family)
    if if_match is not None and not etag_matches(if_match, current):
        raise PreconditionFailedError("The family has changed.", current=present_family(current))
    if any(value is None for name, value in sent.items() if name not in REMOVABLE_FIELDS):
        raise ValidationError(
            "These fields cannot be removed.",
            [
                {"loc": ["body", k], "type": "null_not_allowed"}
                for k, v in sent.items()
                if v is None and k not in REMOVABLE_FIELDS
            ],
        )
    team_id = str(sent.get("teamId") or current.get("teamId") or "")
    if "teamId" in sent and team_id != current.get("teamId"):
        check_team(runtime, caller, team_id)
    if sent.get("workerIds") is not None:
        check_allocation(
            runtime, caller, team_id, sent["workerIds"], current.get("workerIds") or []
        )
    merged = {**current, **sent, "updatedAt": now_iso(runtime.clock()), "updatedBy": caller.actor}
    merged = {name: value for name, value in merged.items() if value is not None}
    if FAMILY_FIELDS & set(sent):
        merged.update(retention(runtime, merged).fields())
    runtime.audit.record(caller, "update", family_id, "family", family_id)
    if "legalHold" in sent and bool(sent["legalHold"]) != bool(current.get("legalHold")):
        action = "legal-hold-set" if sent["legalHold"] else "legal-hold-cleared"
        runtime.audit.record(caller, action, family_id, "family", family_id)
    try:
        stored = runtime.records.replace(merged, str(current["_etag"]))
    except VersionMismatchError as changed:
        runtime.audit.record(caller, "update", family_id, "family", family_id, "conflict")
        shown = present_family(changed.current) if changed.current else None
        raise PreconditionFailedError(
            "The family was changed by someone else.", current=shown
        ) from None
    forget_family(runtime, family_id)
    return stored


def list_families(runtime: Runtime, caller: Caller, limit: int, token: str | None) -> Listed:
    reach = reach_of(caller)
    if reach is None:
        return Listed([], None)
    scope = f"families|{caller.principal.key}"
    items, following = sealed_page(
        runtime.signer,
        scope,
        token,
        lambda after: runtime.records.families_page(reach, limit, after),
    )
    runtime.audit.record_each_family(caller, "list", [str(f["id"]) for f in items], "family")
    return Listed(items, following)


def reach_of(caller: Caller) -> Reach | None:
    """The families the caller may see (``shared.access`` decides each one again), or None
    when they may see none."""
    principal = caller.principal
    if caller.is_family:
        ids = tuple(sorted(caller.memberships))
        return Reach(family_ids=ids) if ids else None
    if caller.is_partner:
        granted = tuple(sorted(caller.grants))
        return Reach(family_ids=granted) if granted else None
    if principal.has_role("HeadOfService"):
        return Reach(everyone=True)
    if not principal.has_role("SocialWorker", "TeamManager"):
        return None
    teams = tuple(sorted(caller.team_ids)) if principal.has_role("TeamManager") else ()
    return Reach(worker_id=caller.id, team_ids=teams)


def reachable_families(runtime: Runtime, caller: Caller) -> list[dict[str, Any]]:
    """The family records the caller may see, cached per instance like other access data
    (the key names a family sign-in's links and a partner's grants, read on every request, so
    a revoked link or an ended grant is never served from here)."""
    scope = sorted(caller.team_ids) + sorted(caller.memberships) + sorted(caller.grants)
    key = f"reach:{caller.principal.key}:{','.join(scope)}"
    with runtime.cache_lock:
        cached = runtime.family_cache.get(key)
    if cached is not None:
        return list(cached["families"])
    reach = reach_of(caller)
    families = runtime.records.families(reach) if reach is not None else []
    with runtime.cache_lock:
        runtime.family_cache[key] = {"families": families}
    return families


def visible_family_ids(runtime: Runtime, caller: Caller) -> list[str]:
    return sorted(str(family["id"]) for family in reachable_families(runtime, caller))
