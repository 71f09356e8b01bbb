"""Partner agencies' grants, and who can see a family's story.

- A social worker allocated to the family, a team manager with access to it or the head of
  service grants a partner the family (``POST .../partners``): a lawful basis and a reason are
  required, and an end no more than ``PARTNER_MAX_DAYS`` away. They may change its scopes, end
  and reason while it is active (the same limit, counted from the change), and revoke it at any
  time. Other staff with access read the grants; family members are refused (403), and a partner
  is answered as an outsider is (404), even for their own grant.
- Every grant, change and revocation is an audit event appended before the write, naming what
  was decided (``detail``), so the audit trail keeps each decision even after later changes.
- A grant's status (active, expired, revoked) is worked out against the clock when it is read.
- ``GET .../access`` answers "who can see my story" to staff with access and to the family: the
  allocated workers, the family's team, the partners with an active grant (for family members by
  organisation and agency, never by person) and the family's own sign-ins.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from shared.access import CASE_ROLES, Caller, FamilyAccess, require_role
from shared.directory import staff_profile_id
from shared.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PreconditionFailedError,
    ValidationError,
)
from shared.grants import GRANT_TYPE, grant_status
from shared.ids import canonical_id, new_id
from shared.opaque import sealed_page
from shared.ports.errors import AlreadyExistsError, VersionMismatchError
from shared.ports.records import Listing
from shared.ports.runtime import Runtime
from shared.records.family_access import access_family
from shared.records.grant_models import AccessOut, GrantIn, GrantOut, GrantPatch
from shared.records.service import Created, Listed, fields_of, new_fields
from shared.records.store import content_hash, etag_matches, now_iso, version_of
from shared.sign_ins import family_sign_ins

STAFF_ONLY = "Only staff see and make partner agencies' grants."
ENDED = "This grant has ended; make a new grant instead."
DECISION_FIELDS = (
    "partnerOid",
    "organisation",
    "agency",
    "scopes",
    "lawfulBasis",
    "reason",
    "expiresAt",
    "writeVisibility",
)
PAGE = 100


def present_grant(document: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    shaped = GrantOut.model_validate(
        {**document, "version": version_of(document), "status": grant_status(document, now)}
    )
    return shaped.model_dump(mode="json", by_alias=True, exclude_none=True)


def grant_for_family(document: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """A grant as the family is told of it (their export): the organisation and agency, what
    it covers, on which basis and for how long; never the person or the free-text reason."""
    shown = {
        "type": GRANT_TYPE,
        "id": document["id"],
        "familyId": document["familyId"],
        "organisation": document["organisation"],
        "agency": document["agency"],
        "scopes": list(document.get("scopes") or []),
        "lawfulBasis": document["lawfulBasis"],
        "grantedAt": document["grantedAt"],
        "expiresAt": document["expiresAt"],
        "status": grant_status(document, now),
    }
    if document.get("revokedAt"):
        shown["revokedAt"] = document["revokedAt"]
    return shown


# --- grants -----------------------------------------------------------------------------------


def create_grant(runtime: Runtime, caller: Caller, family_id: str, body: GrantIn) -> Created:
    access = _granting(runtime, caller, family_id)
    sent = new_fields(body)
    grant_id = str(body.id) if body.id else new_id()
    request_hash = content_hash(
        {"type": GRANT_TYPE, "family": access.family_id, "by": caller.id, "fields": sent}
    )
    try:
        _check_fields(runtime, sent)
    except ValidationError:
        existing = runtime.records.read(access.family_id, grant_id) if body.id else None
        if existing is None:
            raise
        return _replayed(runtime, access, existing, request_hash)
    moment = now_iso(runtime.clock())
    document = {
        **sent,
        "id": grant_id,
        "familyId": access.family_id,
        "type": GRANT_TYPE,
        "partnerTid": caller.principal.tenant_id,
        "grantedBy": caller.actor,
        "grantedAt": moment,
        "createdAt": moment,
        "createdBy": caller.actor,
        "updatedAt": moment,
        "updatedBy": caller.actor,
        "deleted": False,
        "requestHash": request_hash,
    }
    runtime.audit.record(
        caller, "grant", access.family_id, GRANT_TYPE, grant_id, detail=_decision(document)
    )
    try:
        stored = runtime.records.create(document)
    except AlreadyExistsError as exists:
        return _replayed(runtime, access, exists.existing, request_hash)
    return Created(stored, True)


def _replayed(
    runtime: Runtime, access: FamilyAccess, existing: dict[str, Any] | None, request_hash: str
) -> Created:
    caller = access.caller
    grant_id = existing["id"] if existing else None
    if existing is not None and existing.get("requestHash") == request_hash:
        runtime.audit.record(
            caller, "grant", access.family_id, GRANT_TYPE, grant_id, outcome="replayed"
        )
        return Created(existing, False)
    runtime.audit.record(
        caller, "grant", access.family_id, GRANT_TYPE, grant_id, outcome="conflict"
    )
    current = None
    if existing is not None and existing.get("type") == GRANT_TYPE:
        current = present_grant(existing, runtime.clock())
    raise ConflictError("A record with this id already exists.", current=current)


def list_grants(
    runtime: Runtime, caller: Caller, family_id: str, limit: int, token: str | None
) -> Listed:
    """The family's grants, active and ended, newest first (staff with access)."""
    access = _staff_access(runtime, caller, family_id)
    scope = f"list|{GRANT_TYPE}|{access.family_id}|{caller.principal.key}"
    grants = Listing(family_id=access.family_id, record_type=GRANT_TYPE)
    items, following = sealed_page(
        runtime.signer, scope, token, lambda after: runtime.records.list_page(grants, limit, after)
    )
    runtime.audit.record(caller, "list", access.family_id, GRANT_TYPE, None)
    now = runtime.clock()
    return Listed([present_grant(item, now) for item in items], following)


def get_grant(runtime: Runtime, caller: Caller, family_id: str, grant_id: str) -> dict[str, Any]:
    access = _staff_access(runtime, caller, family_id)
    grant = _find(runtime, access, grant_id)
    runtime.audit.record(caller, "read", access.family_id, GRANT_TYPE, grant["id"])
    return present_grant(grant, runtime.clock())


def update_grant(
    runtime: Runtime,
    caller: Caller,
    family_id: str,
    grant_id: str,
    patch: GrantPatch,
    if_match: str | None,
) -> dict[str, Any]:
    """Change an active grant's scopes, end, reason or what the family sees of its writes."""
    access = _granting(runtime, caller, family_id)
    current = _find(runtime, access, grant_id)
    sent = fields_of(patch)
    removed = sorted(name for name, value in sent.items() if value is None)
    if removed:
        raise ValidationError(
            "These fields cannot be removed.",
            [{"loc": ["body", name], "type": "null_not_allowed"} for name in removed],
        )
    if grant_status(current, runtime.clock()) != "active":
        raise ConflictError(ENDED)
    _check_fields(runtime, sent)
    _check_version(runtime, current, if_match)
    changed = {**current, **sent, **_stamp(runtime, caller)}
    runtime.audit.record(
        caller, "update", access.family_id, GRANT_TYPE, current["id"], detail=_decision(changed)
    )
    return present_grant(_replace(runtime, access, changed, current, "update"), runtime.clock())


def revoke_grant(
    runtime: Runtime, caller: Caller, family_id: str, grant_id: str, if_match: str | None
) -> None:
    """End the grant now. Revoking a revoked grant changes nothing."""
    access = _granting(runtime, caller, family_id)
    current = _find(runtime, access, grant_id)
    if current.get("revokedAt"):
        return
    _check_version(runtime, current, if_match)
    moment = now_iso(runtime.clock())
    revoked = {**current, "revokedBy": caller.actor, "revokedAt": moment, **_stamp(runtime, caller)}
    runtime.audit.record(caller, "revoke", access.family_id, GRANT_TYPE, current["id"])
    _replace(runtime, access, revoked, current, "revoke")


def family_grants(runtime: Runtime, family_id: str) -> Iterator[dict[str, Any]]:
    """Every grant of the family, newest first, read a page at a time."""
    listing = Listing(family_id=family_id, record_type=GRANT_TYPE)
    continuation: str | None = None
    while True:
        page = runtime.records.list_page(listing, PAGE, continuation)
        yield from page.items
        if page.continuation is None:
            return
        continuation = page.continuation


# --- who can see my story ---------------------------------------------------------------------


def who_can_see(runtime: Runtime, caller: Caller, family_id: str) -> dict[str, Any]:
    access = access_family(runtime, caller, family_id, "access", fresh=True)
    family = access.family
    now = runtime.clock()
    tenant = runtime.settings.staff_tenant_id
    workers = []
    for worker_id in family.get("workerIds") or []:
        profile = runtime.directory.read(staff_profile_id(tenant, str(worker_id))) or {}
        workers.append({"id": worker_id, "name": str(profile.get("displayName") or "")})
    partners = []
    for grant in family_grants(runtime, access.family_id):
        if grant_status(grant, now) != "active":
            continue
        shown = {name: grant[name] for name in ("organisation", "agency", "scopes", "expiresAt")}
        if access.is_staff:
            shown |= {
                "id": grant["id"],
                "displayName": grant["displayName"],
                "partnerOid": grant["partnerOid"],
            }
        partners.append(shown)
    names: dict[str, str] = {}
    sign_ins = []
    for profile in family_sign_ins(runtime.directory, access.family_id):
        member_id = str(profile["memberships"][access.family_id])
        if member_id not in names:
            member = runtime.records.read(access.family_id, member_id) or {}
            names[member_id] = "" if member.get("deleted") else str(member.get("displayName", ""))
        sign_ins.append({"memberId": member_id, "memberName": names[member_id]})
    runtime.audit.record(caller, "read", access.family_id, "access", None)
    answer = AccessOut.model_validate(
        {
            "workers": workers,
            "teams": [{"id": family["teamId"]}] if family.get("teamId") else [],
            "partners": partners,
            "familySignIns": sign_ins,
        }
    )
    return answer.model_dump(mode="json", by_alias=True, exclude_none=True)


# --- rules ------------------------------------------------------------------------------------


def _staff_access(runtime: Runtime, caller: Caller, family_id: str) -> FamilyAccess:
    access = access_family(runtime, caller, family_id, GRANT_TYPE)
    if not access.is_staff:
        raise ForbiddenError(STAFF_ONLY)
    return access


def _granting(runtime: Runtime, caller: Caller, family_id: str) -> FamilyAccess:
    """Staff who may grant: a social worker allocated to the family, a team manager with access
    to it, or the head of service (``staff_reach`` decides access; the role decides the rest)."""
    access = _staff_access(runtime, caller, family_id)
    require_role(caller, *CASE_ROLES)
    return access


def _find(runtime: Runtime, access: FamilyAccess, grant_id: str) -> dict[str, Any]:
    canonical = canonical_id(grant_id)
    grant = runtime.records.read(access.family_id, canonical) if canonical else None
    if grant is None or grant.get("type") != GRANT_TYPE:
        raise NotFoundError("No such grant.")
    return grant


def _check_fields(runtime: Runtime, sent: Mapping[str, Any]) -> None:
    problems: list[dict[str, Any]] = []
    scopes = sent.get("scopes")
    if scopes is not None and len(set(scopes)) != len(scopes):
        problems.append({"loc": ["body", "scopes"], "type": "duplicate_scope"})
    if "expiresAt" in sent:
        now = runtime.clock()
        expires = datetime.fromisoformat(str(sent["expiresAt"]).replace("Z", "+00:00"))
        longest = timedelta(days=runtime.settings.partner_max_days)
        if expires <= now:
            problems.append({"loc": ["body", "expiresAt"], "type": "not_in_future"})
        elif expires > now + longest:
            problems.append({"loc": ["body", "expiresAt"], "type": "too_far"})
    if problems:
        raise ValidationError(
            "A grant ends in the future, at most "
            f"{runtime.settings.partner_max_days} days from now, and names each scope once.",
            problems,
        )


def _check_version(runtime: Runtime, current: Mapping[str, Any], if_match: str | None) -> None:
    if if_match is not None and not etag_matches(if_match, current):
        raise PreconditionFailedError(
            "The grant has changed; fetch it again.",
            current=present_grant(current, runtime.clock()),
        )


def _stamp(runtime: Runtime, caller: Caller) -> dict[str, Any]:
    return {"updatedAt": now_iso(runtime.clock()), "updatedBy": caller.actor}


def _replace(
    runtime: Runtime,
    access: FamilyAccess,
    document: dict[str, Any],
    current: Mapping[str, Any],
    action: str,
) -> dict[str, Any]:
    try:
        return runtime.records.replace(document, str(current["_etag"]))
    except VersionMismatchError as changed:
        runtime.audit.record(
            access.caller, action, access.family_id, GRANT_TYPE, current["id"], "conflict"
        )
        latest = changed.current
        shown = present_grant(latest, runtime.clock()) if latest else None
        raise PreconditionFailedError(
            "The grant was changed by someone else; fetch it again.", current=shown
        ) from None


def _decision(document: Mapping[str, Any]) -> str:
    """What was decided, for the audit event: with whom, what, why, on which basis, until when."""
    decided = {name: document[name] for name in DECISION_FIELDS if name in document}
    return json.dumps(decided, separators=(",", ":"), ensure_ascii=False)
