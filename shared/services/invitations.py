"""Invitations: how a family member's sign-in becomes linked to a member of a family.

A social worker creates an invitation for a member; the code is random (10 characters from a
32-letter alphabet, 50 bits), valid for 72 hours, single use, and only its SHA-256 is stored.
Redeeming checks the code and that the verified phone number or email in the caller's token
matches the member's (``shared.identity`` says which contact claims are trusted). Every failure
looks the same to the caller (no hint which part was wrong), and a caller gets at most five
failed attempts in any rolling hour, however many race (``shared.services.redeem_attempts``).

When the member has a phone number, the code is texted to it through the app's SMS sender
(``text_invitation``): a first name, the code, its expiry and the service's name. A text that
fails is logged and does not undo the invitation: staff still get the code to pass on.

Redeeming links the caller's sign-in to the member; a member may have several (a phone and a
tablet), which staff list and revoke (``shared.services.family_links``).

Only a member's newest invitation is valid: issuing one points the member's
``invitationlatest:<familyId>:<memberId>`` directory document at it (before the invitation is
stored, so a failure in between leaves no code valid rather than two), and redeeming an older
code is a failure like any other. Invitations issued before that document existed are valid
until one is issued after.

Each write's audit event is appended before the write, as for case records.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from shared.access import Caller
from shared.errors import ForbiddenError, NotFoundError
from shared.ports.errors import VersionMismatchError
from shared.ports.runtime import Runtime
from shared.records.family_access import read_family
from shared.records.kinds import MEMBER
from shared.records.models import InvitationIn, RedeemIn
from shared.records.service import RecordService
from shared.records.store import now_iso
from shared.services.redeem_attempts import RedeemAttempts
from shared.sign_ins import link_sign_in

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
LIFETIME = timedelta(hours=72)
RETRIES = 5
INVITATION_TAG = "invitation"

InvitationNotifier = Callable[[dict[str, Any], str, str], None]

logger = logging.getLogger(__name__)


def text_invitation(runtime: Runtime) -> InvitationNotifier:
    """A notifier that texts the code to the member's phone (E.164, validated at input)."""

    def notify(member: dict[str, Any], code: str, expires_at: str) -> None:
        from shared.sms import SmsError

        text = runtime.sms_templates.invitation_text(
            str(member.get("displayName") or ""),
            code,
            datetime.fromisoformat(expires_at),
            member.get("preferredLanguage"),
        )
        try:
            runtime.sms_sender.send(str(member["phone"]), text, INVITATION_TAG)
        except SmsError as error:
            logger.warning(
                "invitation code not texted",
                extra={"familyId": member.get("familyId"), "reason": error.reason},
            )
            return
        logger.info("invitation code texted", extra={"familyId": member.get("familyId")})

    return notify


def code_hash(code: str) -> str:
    normalised = "".join(code.split()).replace("-", "").upper()
    return hashlib.sha256(normalised.encode()).hexdigest()


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def create_invitation(
    runtime: Runtime,
    caller: Caller,
    family_id: str,
    body: InvitationIn,
    notify: InvitationNotifier | None = None,
) -> dict[str, str]:
    service = RecordService(runtime)
    access = service.access(caller, family_id, MEMBER)
    if not access.is_staff:
        raise ForbiddenError("Only staff invite family members.")
    member = service.find(access, MEMBER, body.member_id)
    code = new_code()
    now = runtime.clock()
    expires_at = now_iso(now + LIFETIME)
    document = {
        "id": f"invitation:{code_hash(code)}",
        "type": "invitation",
        "familyId": family_id,
        "memberId": member["id"],
        "createdAt": now_iso(now),
        "createdBy": caller.actor,
        "expiresAt": expires_at,
        "redeemedAt": None,
        "ttl": int(LIFETIME.total_seconds()) + 7 * 24 * 3600,
    }
    runtime.audit.record(caller, "invite", family_id, "member", member["id"])
    runtime.directory.upsert(
        {
            "id": _latest_id(family_id, member["id"]),
            "type": "invitationlatest",
            "invitationId": document["id"],
            "ttl": document["ttl"],
        }
    )
    runtime.directory.create(document)
    if notify is not None and member.get("phone"):
        notify(member, code, expires_at)
    return {"code": code, "expiresAt": expires_at}


def redeem_invitation(runtime: Runtime, caller: Caller, body: RedeemIn) -> dict[str, str]:
    """Link the caller to the code's member. The attempt is counted before the code is looked
    at (``RedeemAttempts``), and given back unless it failed on the code."""
    if not caller.is_family:
        raise ForbiddenError("Invitations are redeemed by family members.")
    attempts = RedeemAttempts(runtime.directory, runtime.clock)
    claim = attempts.claim(caller.principal.key)
    wrong_code = False
    try:
        return _redeem(runtime, caller, body.code)
    except NotFoundError:
        wrong_code = True
        raise
    finally:
        if not wrong_code:
            attempts.give_back(claim)


def _redeem(runtime: Runtime, caller: Caller, code: str) -> dict[str, str]:
    invalid = NotFoundError("This code is not valid, has expired or has been used.")
    invitation = runtime.directory.read(f"invitation:{code_hash(code)}")
    now = now_iso(runtime.clock())
    if invitation is None or invitation.get("redeemedAt") or str(invitation["expiresAt"]) <= now:
        raise invalid
    family_id, member_id = str(invitation["familyId"]), str(invitation["memberId"])
    latest = runtime.directory.read(_latest_id(family_id, member_id))
    if latest is not None and latest.get("invitationId") != invitation["id"]:
        raise invalid
    member = runtime.records.read(family_id, member_id)
    if member is None or member.get("deleted") or read_family(runtime, family_id) is None:
        raise invalid
    if not _contact_matches(caller, member):
        raise invalid
    claimed = {**invitation, "redeemedAt": now, "redeemedBy": caller.audit_identity()}
    runtime.audit.record(caller, "redeem", family_id, "member", member_id)
    try:
        runtime.directory.replace(_body(claimed), str(invitation["_etag"]))
    except VersionMismatchError:
        runtime.audit.record(caller, "redeem", family_id, "member", member_id, "conflict")
        raise invalid from None
    link_sign_in(runtime.directory, runtime.clock, caller, family_id, member_id)
    _link_member(runtime, caller, member)
    return {"familyId": family_id, "memberId": member_id}


def _latest_id(family_id: str, member_id: str) -> str:
    return f"invitationlatest:{family_id}:{member_id}"


def _contact_matches(caller: Caller, member: dict[str, Any]) -> bool:
    phone, email = member.get("phone"), member.get("email")
    principal = caller.principal
    if phone and principal.phone and phone == principal.phone:
        return True
    return bool(email and principal.email and str(email).lower() == principal.email.lower())


def _link_member(runtime: Runtime, caller: Caller, member: dict[str, Any]) -> None:
    current: dict[str, Any] | None = member
    for _ in range(RETRIES):
        if current is None:
            raise NotFoundError("This code is not valid, has expired or has been used.")
        linked = {**current, "identity": {"tid": caller.principal.tenant_id, "oid": caller.id}}
        try:
            runtime.records.replace(linked, str(current["_etag"]))
            return
        except VersionMismatchError as changed:
            current = changed.current


def _body(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if not k.startswith("_")}
