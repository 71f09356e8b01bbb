"""Safety alerts: a family member asks for help; staff are texted at once; the duty team if no one
acknowledges in time. Built like the visit reminders: every text is claimed before it is sent.

When an alert is raised (``raise_alert``, from ``POST .../safety-alerts`` or a sync push):

1. It is stored with when it was written (the device's word, not believed if later than its
   arrival plus ``FUTURE_LEEWAY``: then the arrival time, ``writtenAtAdjusted``) and when it
   arrived, the member who raised it, and ``followUpAt`` = now, so that if this request dies
   before texting, the next follow-up run (``SAFETY_SCHEDULE``, every minute) does the texting.
   The answer always carries ``advice``: call 999 in an emergency.
2. How it texts (``texting``): if the same member has an alert under way (not acknowledged and
   not yet escalated), the new one is ``joined`` to it and texts nobody itself: the texts and
   the escalation already under way cover it, and acknowledging that alert acknowledges this
   one. Otherwise, if fewer than ``SAFETY_ALERTS_PER_HOUR`` of the member's alerts texted staff
   in the past hour, it is ``staff``; else ``duty``.
3. ``staff``: one text at once, in quiet hours too, to each allocated worker and each team
   manager of the family's team who has a ``phone`` in the staff directory. Nobody's name, no
   message, no family: "a family member has asked for help" and the alert's reference.
4. Escalation: if no one acknowledges by ``escalateAt`` (arrival + ``SAFETY_ACK_MINUTES``), one
   text to ``SAFETY_DUTY_PHONE``. At once, instead, when there was no staff phone to text, or
   every staff text has failed for good. ``duty`` alerts escalate the same way, without staff
   texts first.

Each text has a deterministic id (alert and recipient) and is created ``sending`` before it is
sent: a retried request, a duplicate push, two instances or a timer racing the request all
compute the same id, and only the one whose create succeeded sends. A send that fails for now
(the provider down) is retried by each follow-up run, up to ``SAFETY_MAX_ATTEMPTS``; a send
whose outcome is unknown (the answer was lost) is never repeated. Whatever happens to the staff
texts, the escalation is due at ``escalateAt``. ``followUpAt`` on the alert says when a run must
look at it next (a retry, the escalation); it is removed when nothing is left to do, so a run
reads only the alerts that need it.

Acknowledgement (``acknowledge``): any staff member with access, once; later ones answer the
alert as it is. Waiting texts are then skipped (``acknowledged``); an escalation not yet sent
is not sent.

Who sees what: staff with access see every alert of the family, with every text (by recipient
kind and staff id, never a phone number). A family member sees the alerts they raised
(whichever of their sign-ins raised it): received, acknowledged and when, and which kinds of
recipient were texted, no more; another member of the family does not see them (a child's
request for help is not shown to the parent it may be about). Everything is audited: raising,
reading, listing, acknowledging and each text (by a system actor).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shared.access import Caller, FamilyAccess
from shared.directory import staff_profile_id
from shared.errors import ConflictError, ForbiddenError, NotFoundError, PreconditionFailedError
from shared.identity import Principal
from shared.ids import canonical_id, new_id
from shared.opaque import sealed_page
from shared.ports.errors import AlreadyExistsError, VersionMismatchError
from shared.ports.records import Listing
from shared.ports.runtime import Runtime
from shared.records.family_access import access_family
from shared.records.service import Created, Listed
from shared.records.store import content_hash, now_iso, version_of
from shared.safety.models import (
    ADVICE,
    ALERT_TYPE,
    DUTY,
    REASON_ACKNOWLEDGED,
    REASON_ATTEMPTS_EXHAUSTED,
    REASON_NO_DUTY_PHONE,
    REASON_NO_PHONE,
    REASON_OUTCOME_UNKNOWN,
    REASON_REJECTED,
    REASON_TRANSIENT,
    TEXT_TYPE,
    AlertIn,
    AlertOut,
    Recipient,
    SafetyText,
    Texting,
    reference,
    text_id,
)
from shared.sms.port import SmsOutcomeUnknownError, SmsPermanentError, SmsTransientError

log = logging.getLogger("familystory.safety")

FUTURE_LEEWAY = timedelta(minutes=5)
STUCK_AFTER = timedelta(minutes=15)
RETRY_AFTER = timedelta(minutes=1)
PER_HOUR_WINDOW = timedelta(hours=1)
RECENT_ALERTS = 50
TEXTS_PER_ALERT = 100
WRITE_TRIES = 5
SYSTEM = Principal("system", "safety-alerts", "Safety alerts", "staff")
SYSTEM_ACTOR = {"id": "safety-alerts", "name": "Safety alerts", "kind": "system"}


@dataclass(frozen=True)
class SystemCaller(Caller):
    """The follow-up run, in the audit trail: not a person, no roles."""

    def audit_identity(self) -> dict[str, Any]:
        return {"tid": "", "oid": SYSTEM.object_id, "kind": "system", "roles": []}


SYSTEM_CALLER = SystemCaller(SYSTEM)


@dataclass
class FollowUpReport:
    alerts: int = 0
    sent: int = 0
    failed: int = 0
    escalated: int = 0
    already_claimed: int = 0
    skipped: int = 0
    outcome_unknown: int = 0
    errors: list[str] = field(default_factory=list)


# --- raising --------------------------------------------------------------------------------


def raise_alert(runtime: Runtime, caller: Caller, family_id: str, body: AlertIn) -> Created:
    """Store the alert and text at once; a repeated create with the same id and content raises
    nothing new (it finishes any texting the first left undone) and answers the stored alert."""
    access = access_family(runtime, caller, family_id, ALERT_TYPE)
    if access.is_staff:
        raise ForbiddenError(
            "Safety alerts are raised by family members. In an emergency, call 999."
        )
    now = runtime.clock()
    alert_id = str(body.id) if body.id else new_id()
    written, adjusted = _written_at(body.written_at, now)
    request_hash = content_hash(
        {
            "type": ALERT_TYPE,
            "family": access.family_id,
            "by": caller.id,
            "message": body.message,
            "writtenAt": body.written_at.isoformat() if body.written_at else None,
        }
    )
    if body.id:
        existing = runtime.records.read(access.family_id, alert_id)
        if existing is not None:
            return _replayed(runtime, access, existing, request_hash)
    texting, joined_to = _texting(runtime, access, now)
    recipients = _recipients(runtime, access.family) if texting == "staff" else []
    moment = now_iso(now)
    ack_minutes = runtime.settings.safety_ack_minutes
    escalate_at = (
        now if texting == "staff" and not recipients else now + timedelta(minutes=ack_minutes)
    )
    document: dict[str, Any] = {
        "id": alert_id,
        "familyId": access.family_id,
        "type": ALERT_TYPE,
        "memberId": access.member_id,
        "writtenAt": now_iso(written),
        "receivedAt": moment,
        "status": "raised",
        "texting": texting,
        "recipients": [{"kind": r.kind, "oid": r.oid} for r, _ in recipients],
        "escalateAt": now_iso(escalate_at),
        "followUpAt": moment if texting != "joined" else None,
        "createdAt": moment,
        "createdBy": caller.actor,
        "updatedAt": moment,
        "updatedBy": caller.actor,
        "deleted": False,
        "everShared": False,
        "requestHash": request_hash,
    }
    if body.message:
        document["message"] = body.message
    if adjusted:
        document["writtenAtAdjusted"] = True
    if joined_to:
        document["joinedTo"] = joined_to
    runtime.audit.record(caller, "raise", access.family_id, ALERT_TYPE, alert_id, detail=texting)
    try:
        stored = runtime.records.create(document)
    except AlreadyExistsError as exists:
        if exists.existing is None:
            raise
        return _replayed(runtime, access, exists.existing, request_hash)
    log.warning(
        "safety alert raised",
        extra={"familyId": access.family_id, "alertId": alert_id, "texting": texting},
    )
    if texting != "joined":
        stored = follow_up(runtime, stored) or stored
    return Created(present_alert(runtime, access, stored), True)


def _written_at(sent: datetime | None, now: datetime) -> tuple[datetime, bool]:
    """When the alert was written: the device's time unless later than now plus the leeway (a
    device clock that is wrong does not stop an alert: it is raised as written now)."""
    if sent is None:
        return now, False
    if sent > now + FUTURE_LEEWAY:
        return now, True
    return sent, False


def _replayed(
    runtime: Runtime, access: FamilyAccess, existing: dict[str, Any], request_hash: str
) -> Created:
    caller = access.caller
    mine = existing.get("type") == ALERT_TYPE and _may_see(access, existing)
    if mine and existing.get("requestHash") == request_hash:
        runtime.audit.record(
            caller, "raise", access.family_id, ALERT_TYPE, existing["id"], "replayed"
        )
        if existing.get("followUpAt"):
            existing = follow_up(runtime, existing) or existing
        return Created(present_alert(runtime, access, existing), False)
    runtime.audit.record(
        caller, "raise", access.family_id, ALERT_TYPE, str(existing.get("id")), "conflict"
    )
    current = present_alert(runtime, access, existing) if mine else None
    raise ConflictError("A record with this id already exists.", current=current)


def _texting(runtime: Runtime, access: FamilyAccess, now: datetime) -> tuple[Texting, str | None]:
    recent = _member_alerts(runtime, access.family_id, access.member_id, RECENT_ALERTS)
    moment = now_iso(now)
    for alert in recent:
        under_way = (
            alert.get("status") == "raised"
            and alert.get("texting") in ("staff", "duty")
            and str(alert.get("escalateAt", "")) > moment
        )
        if under_way:
            return "joined", str(alert["id"])
    hour_ago = now_iso(now - PER_HOUR_WINDOW)
    texted = [
        a for a in recent if a.get("texting") == "staff" and str(a.get("receivedAt")) > hour_ago
    ]
    if len(texted) >= runtime.settings.safety_alerts_per_hour:
        return "duty", None
    return "staff", None


def _member_alerts(
    runtime: Runtime, family_id: str, member_id: str | None, limit: int
) -> list[dict[str, Any]]:
    listing = Listing(
        family_id=family_id,
        record_type=ALERT_TYPE,
        equal=(("memberId", member_id),),
        newest_first=True,
    )
    return runtime.records.list_page(listing, limit, None).items


def _recipients(runtime: Runtime, family: Mapping[str, Any]) -> list[tuple[Recipient, str]]:
    """Each allocated worker, then each team manager of the family's team, with a phone."""
    tenant = runtime.settings.staff_tenant_id
    found: dict[str, tuple[Recipient, str]] = {}
    for oid in family.get("workerIds") or []:
        entry = runtime.directory.read(staff_profile_id(tenant, str(oid)))
        if entry and entry.get("type") == "staff" and entry.get("phone"):
            found[str(oid)] = (Recipient(kind="worker", oid=str(oid)), str(entry["phone"]))
    team = family.get("teamId")
    if team:
        for entry in runtime.directory.team_staff(str(team)):
            oid = str(entry.get("oid") or "")
            manager = "TeamManager" in (entry.get("roles") or [])
            if oid and manager and entry.get("phone") and oid not in found:
                found[oid] = (Recipient(kind="manager", oid=oid), str(entry["phone"]))
    return list(found.values())


# --- following up: texts, retries, escalation --------------------------------------------------


def follow_up_due(runtime: Runtime) -> FollowUpReport:
    """The timer's run: every alert whose ``followUpAt`` has come."""
    report = FollowUpReport()
    for alert in runtime.records.alerts_to_follow_up(now_iso(runtime.clock())):
        report.alerts += 1
        try:
            follow_up(runtime, alert, report)
        except Exception as error:
            report.errors.append(type(error).__name__)
            log.exception("safety alert follow-up failed", extra={"alertId": alert.get("id")})
    return report


def follow_up(
    runtime: Runtime, alert: dict[str, Any], report: FollowUpReport | None = None
) -> dict[str, Any] | None:
    """Do what the alert is owed now (texts, retries, the escalation), then say when to look
    again. Returns the alert as stored after."""
    report = report or FollowUpReport()
    follow = _FollowUp(runtime, report)
    return follow.run(alert)


class _FollowUp:
    def __init__(self, runtime: Runtime, report: FollowUpReport) -> None:
        self.runtime = runtime
        self.report = report
        self.settings = runtime.settings

    def now(self) -> datetime:
        return self.runtime.clock()

    def run(self, alert: dict[str, Any]) -> dict[str, Any] | None:
        family_id, alert_id = str(alert["familyId"]), str(alert["id"])
        latest = self.runtime.records.read(family_id, alert_id) or alert
        texts = {t.recipient.key: t for t in self.texts(latest)}
        if latest.get("status") != "raised":
            for text in texts.values():
                if text.waiting:
                    self.update(
                        text,
                        {
                            "status": "skipped",
                            "reason": REASON_ACKNOWLEDGED,
                            "next_attempt_at": None,
                        },
                    )
            return self.schedule(latest, None)
        texting = latest.get("texting")
        staff = [Recipient.model_validate(r) for r in latest.get("recipients") or []]
        if texting == "staff":
            phones = self.phones(latest, staff)
            for recipient in staff:
                texts[recipient.key] = self.advance(
                    latest, recipient, phones.get(recipient.key), texts.get(recipient.key)
                ) or texts.get(recipient.key)  # type: ignore[assignment]
        now = self.now()
        escalate_at = _instant(str(latest["escalateAt"]))
        staff_texts = [texts.get(r.key) for r in staff]
        all_failed = bool(staff) and all(t is not None and t.failed_for_good for t in staff_texts)
        if texting in ("staff", "duty") and (now >= escalate_at or all_failed):
            duty = texts.get(DUTY)
            texts[DUTY] = self.escalate(latest, duty) or duty  # type: ignore[assignment]
        return self.schedule(latest, self.next_look(latest, texts.values(), escalate_at))

    def texts(self, alert: Mapping[str, Any]) -> list[SafetyText]:
        listing = Listing(
            family_id=str(alert["familyId"]),
            record_type=TEXT_TYPE,
            equal=(("alertId", str(alert["id"])),),
            newest_first=False,
        )
        rows = self.runtime.records.list_page(listing, TEXTS_PER_ALERT, None).items
        return [SafetyText.stored(row) for row in rows]

    def phones(self, alert: Mapping[str, Any], staff: list[Recipient]) -> dict[str, str]:
        """Each recipient's phone, read from the directory now (a number changed since the alert
        was raised is the one to text)."""
        tenant = self.settings.staff_tenant_id
        phones: dict[str, str] = {}
        for recipient in staff:
            entry = self.runtime.directory.read(staff_profile_id(tenant, str(recipient.oid)))
            if entry and entry.get("phone"):
                phones[recipient.key] = str(entry["phone"])
        return phones

    def escalate(self, alert: Mapping[str, Any], text: SafetyText | None) -> SafetyText | None:
        duty = Recipient(kind="duty")
        phone = self.duty_phone()
        if text is None:
            self.report.escalated += 1
        return self.advance(alert, duty, phone, text)

    def duty_phone(self) -> str | None:
        from shared.sms.phone import InvalidPhoneNumberError, normalise_mobile

        raw = self.settings.safety_duty_phone
        if not raw.strip():
            return None
        try:
            return normalise_mobile(raw)
        except InvalidPhoneNumberError:
            log.error("SAFETY_DUTY_PHONE is not a UK mobile number")
            return None

    def advance(
        self,
        alert: Mapping[str, Any],
        recipient: Recipient,
        phone: str | None,
        text: SafetyText | None,
    ) -> SafetyText | None:
        now = self.now()
        if text is None:
            return self.create(alert, recipient, phone, now)
        if text.status == "sending" and now - text.updated_at >= STUCK_AFTER:
            return self.update(
                text,
                {
                    "status": "failed",
                    "reason": REASON_OUTCOME_UNKNOWN,
                    "next_attempt_at": None,
                    "error": "no outcome was recorded; not sent again to avoid a duplicate text",
                },
            )
        if not text.due(now):
            return text
        if phone is None:
            return self.update(text, {"next_attempt_at": None, "reason": REASON_NO_DUTY_PHONE})
        taken = self.update(
            text,
            {
                "status": "sending",
                "attempts": text.attempts + 1,
                "to": phone,
                "reason": None,
                "next_attempt_at": None,
            },
        )
        if taken is None or taken.status != "sending" or taken.attempts != text.attempts + 1:
            self.report.already_claimed += 1
            return taken
        return self.send(alert, taken)

    def create(
        self, alert: Mapping[str, Any], recipient: Recipient, phone: str | None, now: datetime
    ) -> SafetyText | None:
        sendable = phone is not None
        no_phone = REASON_NO_DUTY_PHONE if recipient.kind == "duty" else REASON_NO_PHONE
        text = SafetyText(
            id=text_id(str(alert["id"]), recipient.key),
            family_id=str(alert["familyId"]),
            alert_id=str(alert["id"]),
            recipient=recipient,
            to=phone,
            status="sending" if sendable else "failed",
            reason=None if sendable else no_phone,
            attempts=1 if sendable else 0,
            created_at=now,
            updated_at=now,
        )
        if not sendable:
            log.error(
                "a safety text could not be sent: no phone number (%s)",
                no_phone,
                extra={"alertId": alert["id"], "familyId": alert["familyId"]},
            )
        try:
            created = SafetyText.stored(self.runtime.records.create(text.document()))
        except AlreadyExistsError as exists:
            self.report.already_claimed += 1
            return SafetyText.stored(exists.existing) if exists.existing else None
        if not sendable:
            self.report.failed += 1
            return created
        return self.send(alert, created)

    def send(self, alert: Mapping[str, Any], text: SafetyText) -> SafetyText | None:
        assert text.to is not None
        templates = self.runtime.sms_templates
        ref = reference(text.alert_id)
        if text.recipient.kind == "duty":
            content = templates.escalation_text(ref, self.minutes_since(alert))
        else:
            content = templates.safety_text(ref)
        self.runtime.audit.record(
            SYSTEM_CALLER,
            "text",
            text.family_id,
            ALERT_TYPE,
            text.alert_id,
            detail=f"{text.recipient.kind} attempt {text.attempts}",
        )
        outcome: dict[str, Any]
        try:
            result = self.runtime.sms_sender.send(text.to, content, f"{text.family_id}/{text.id}")
        except SmsTransientError as error:
            retry = text.attempts < self.settings.safety_max_attempts
            outcome = {
                "status": "failed",
                "reason": REASON_TRANSIENT if retry else REASON_ATTEMPTS_EXHAUSTED,
                "error": error.reason,
                "next_attempt_at": self.now() + RETRY_AFTER if retry else None,
            }
        except SmsPermanentError as error:
            outcome = {"status": "failed", "reason": REASON_REJECTED, "error": error.reason}
        except SmsOutcomeUnknownError as error:
            outcome = {"status": "failed", "reason": REASON_OUTCOME_UNKNOWN, "error": error.reason}
            self.report.outcome_unknown += 1
        else:
            outcome = {
                "status": "sent",
                "message_id": result.message_id,
                "sent_at": self.now(),
                "error": None,
            }
        if outcome["status"] == "sent":
            self.report.sent += 1
        else:
            self.report.failed += 1
            self.runtime.audit.record(
                SYSTEM_CALLER,
                "text",
                text.family_id,
                ALERT_TYPE,
                text.alert_id,
                "failed",
                detail=f"{text.recipient.kind}: {outcome['reason']}",
            )
        log.warning(
            "safety text %s",
            outcome["status"],
            extra={
                "alertId": text.alert_id,
                "recipient": text.recipient.kind,
                "attempt": text.attempts,
            },
        )
        return self.record(text, outcome)

    def minutes_since(self, alert: Mapping[str, Any]) -> int:
        received = _instant(str(alert["receivedAt"]))
        return max(0, int((self.now() - received).total_seconds() // 60))

    def record(self, text: SafetyText, outcome: dict[str, Any]) -> SafetyText | None:
        """The send's outcome, even when a delivery report wrote to the text first."""
        current: SafetyText | None = text
        for _ in range(WRITE_TRIES):
            if current is None:
                return None
            try:
                stored = self.runtime.records.replace(
                    current.changed(**outcome, updated_at=self.now()).document(),
                    str(current.version),
                )
                return SafetyText.stored(stored)
            except VersionMismatchError as changed:
                current = SafetyText.stored(changed.current) if changed.current else None
        log.error("could not record a safety text outcome", extra={"textId": text.id})
        return None

    def update(self, text: SafetyText, changes: dict[str, Any]) -> SafetyText | None:
        try:
            stored = self.runtime.records.replace(
                text.changed(**changes, updated_at=self.now()).document(), str(text.version)
            )
        except VersionMismatchError as changed:
            return SafetyText.stored(changed.current) if changed.current else None
        return SafetyText.stored(stored)

    def next_look(
        self, alert: Mapping[str, Any], texts: Any, escalate_at: datetime
    ) -> datetime | None:
        """When a run must look at the alert again: a retry, a text stuck sending, or the
        escalation; None when nothing is left to do."""
        times: list[datetime] = []
        escalated = any(t is not None and t.recipient.kind == "duty" for t in texts)
        if alert.get("texting") in ("staff", "duty") and not escalated:
            times.append(escalate_at)
        for text in texts:
            if text is None:
                continue
            if text.waiting and text.next_attempt_at is not None:
                times.append(text.next_attempt_at)
            if text.status == "sending":
                times.append(text.updated_at + STUCK_AFTER)
        return min(times) if times else None

    def schedule(self, alert: dict[str, Any], when: datetime | None) -> dict[str, Any] | None:
        """Store the alert's next ``followUpAt`` (re-reading it after a racing write)."""
        wanted = now_iso(when) if when is not None else None
        current: dict[str, Any] | None = alert
        for _ in range(WRITE_TRIES):
            if current is None:
                return None
            if current.get("followUpAt") == wanted:
                return current
            if current.get("status") != "raised" and wanted is not None:
                wanted = None
            try:
                return self.runtime.records.replace(
                    {**current, "followUpAt": wanted}, str(current["_etag"])
                )
            except VersionMismatchError as changed:
                current = changed.current
        return current


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- acknowledging, reading and listing -------------------------------------------------------


def acknowledge(runtime: Runtime, caller: Caller, family_id: str, alert_id: str) -> dict[str, Any]:
    """Record the first staff member who acknowledges; the alerts joined to it with it."""
    access = access_family(runtime, caller, family_id, ALERT_TYPE)
    alert = _find(runtime, access, alert_id)
    if not access.is_staff:
        raise ForbiddenError("Staff acknowledge a safety alert.")
    if alert.get("status") == "acknowledged":
        runtime.audit.record(
            caller, "acknowledge", access.family_id, ALERT_TYPE, alert["id"], "replayed"
        )
        return present_alert(runtime, access, alert)
    stored = _acknowledged(runtime, access, alert)
    listing = Listing(
        family_id=access.family_id, record_type=ALERT_TYPE, equal=(("joinedTo", alert["id"]),)
    )
    for joined in runtime.records.list_page(listing, RECENT_ALERTS, None).items:
        if joined.get("status") == "raised":
            _acknowledged(runtime, access, joined, acknowledgement=stored)
    stored = follow_up(runtime, stored) or stored
    return present_alert(runtime, access, stored)


def _acknowledged(
    runtime: Runtime,
    access: FamilyAccess,
    alert: dict[str, Any],
    acknowledgement: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    caller = access.caller
    current: dict[str, Any] | None = alert
    for _ in range(WRITE_TRIES):
        if current is None:
            raise NotFoundError("No such safety alert.")
        if current.get("status") == "acknowledged":
            return current
        moment = now_iso(runtime.clock())
        changed = {
            **current,
            "status": "acknowledged",
            "acknowledgedAt": (acknowledgement or {}).get("acknowledgedAt") or moment,
            "acknowledgedBy": (acknowledgement or {}).get("acknowledgedBy") or caller.actor,
            "updatedAt": moment,
            "updatedBy": caller.actor,
        }
        runtime.audit.record(caller, "acknowledge", access.family_id, ALERT_TYPE, current["id"])
        try:
            return runtime.records.replace(changed, str(current["_etag"]))
        except VersionMismatchError as moved:
            current = moved.current
    raise PreconditionFailedError("The alert is changing too fast; try again.")


def read_alert(runtime: Runtime, caller: Caller, family_id: str, alert_id: str) -> dict[str, Any]:
    access = access_family(runtime, caller, family_id, ALERT_TYPE)
    alert = _find(runtime, access, alert_id)
    runtime.audit.record(caller, "read", access.family_id, ALERT_TYPE, alert["id"])
    return present_alert(runtime, access, alert)


def list_alerts(
    runtime: Runtime, caller: Caller, family_id: str, limit: int, token: str | None
) -> Listed:
    """Staff: every alert of the family; a family member: the alerts they raised. Newest
    first, each with its texts."""
    access = access_family(runtime, caller, family_id, ALERT_TYPE)
    equal: tuple[tuple[str, Any], ...] = ()
    if not access.is_staff:
        equal = (("memberId", access.member_id),)
    listing = Listing(family_id=access.family_id, record_type=ALERT_TYPE, equal=equal)
    scope = f"list|{ALERT_TYPE}|{access.family_id}|{caller.principal.key}"
    items, following = sealed_page(
        runtime.signer,
        scope,
        token,
        lambda after: runtime.records.list_page(listing, limit, after),
    )
    runtime.audit.record(caller, "list", access.family_id, ALERT_TYPE, None)
    return Listed([present_alert(runtime, access, item) for item in items], following)


def _find(runtime: Runtime, access: FamilyAccess, alert_id: str) -> dict[str, Any]:
    canonical = canonical_id(alert_id)
    alert = runtime.records.read(access.family_id, canonical) if canonical else None
    if alert is None or alert.get("type") != ALERT_TYPE or not _may_see(access, alert):
        if alert is not None and alert.get("type") == ALERT_TYPE:
            runtime.audit.record(
                access.caller, "read", access.family_id, ALERT_TYPE, canonical, "denied"
            )
        raise NotFoundError("No such safety alert.")
    return alert


def _may_see(access: FamilyAccess, alert: Mapping[str, Any]) -> bool:
    if alert.get("familyId") != access.family_id or alert.get("deleted"):
        return False
    return access.is_staff or (
        access.member_id is not None and alert.get("memberId") == access.member_id
    )


def present_alert(
    runtime: Runtime, access: FamilyAccess, alert: Mapping[str, Any]
) -> dict[str, Any]:
    listing = Listing(
        family_id=str(alert["familyId"]),
        record_type=TEXT_TYPE,
        equal=(("alertId", str(alert["id"])),),
        newest_first=False,
    )
    rows = runtime.records.list_page(listing, TEXTS_PER_ALERT, None).items
    return shape_alert(alert, [SafetyText.stored(r) for r in rows], access.is_staff)


def shape_alert(alert: Mapping[str, Any], texts: list[SafetyText], staff: bool) -> dict[str, Any]:
    """An alert as staff (everything but phone numbers) or its author (no more than they
    need: received, acknowledged, who was texted by kind) see it."""
    shown_texts = []
    for text in texts:
        item: dict[str, Any] = {
            "recipient": {"kind": text.recipient.kind},
            "status": text.status,
        }
        if text.sent_at is not None:
            item["sentAt"] = now_iso(text.sent_at)
        if staff:
            item["recipient"]["oid"] = text.recipient.oid
            item |= {
                "reason": text.reason,
                "attempts": text.attempts,
                "createdAt": now_iso(text.created_at),
            }
        shown_texts.append(item)
    fields: dict[str, Any] = {
        **alert,
        "reference": reference(str(alert["id"])),
        "texts": shown_texts,
        "advice": ADVICE,
        "version": version_of(alert),
    }
    if not staff:
        for name in (
            "acknowledgedBy",
            "memberId",
            "texting",
            "joinedTo",
            "escalateAt",
            "updatedAt",
        ):
            fields.pop(name, None)
    shaped = AlertOut.model_validate(fields)
    return shaped.model_dump(mode="json", by_alias=True, exclude_none=True)


def alert_advice() -> str:
    return ADVICE


def sync_result(created: Created) -> dict[str, Any]:
    """What a sync push answers for an alert: its id and version, and the advice."""
    return {"id": created.document["id"], "version": created.document["version"], "advice": ADVICE}


def exported_alert(alert: Mapping[str, Any], member_id: str | None) -> dict[str, Any] | None:
    """An alert in a family member's export: theirs only, as they see it (texts left out)."""
    if alert.get("memberId") != member_id or not member_id:
        return None
    return shape_alert(alert, [], staff=False)


def record_delivery(
    runtime: Runtime,
    tag: str | None,
    message_id: str,
    delivery_status: str,
    received_at: datetime | None,
) -> SafetyText | None:
    """An ACS delivery report onto the safety text it is about (found by its tag,
    ``familyId/textId``); None when the tag names no safety text of ours. An older report never
    overwrites a newer one."""
    family_id, _, text_key = (tag or "").partition("/")
    if not family_id or not text_key or "/" in text_key:
        return None
    if canonical_id(family_id) is None or canonical_id(text_key) is None:
        return None
    for _ in range(WRITE_TRIES):
        document = runtime.records.read(family_id, text_key)
        if document is None or document.get("type") != TEXT_TYPE:
            return None
        text = SafetyText.stored(document)
        if text.message_id not in (None, message_id):
            return None
        received = received_at or runtime.clock()
        if text.delivery_reported_at is not None and received < text.delivery_reported_at:
            return text
        status = {"delivered": "delivered", "failed": "undeliverable"}.get(
            delivery_status.lower(), text.status
        )
        changed = text.changed(
            status=status if text.status in ("sent", "delivered", "undeliverable") else text.status,
            delivery_status=delivery_status,
            delivery_reported_at=received,
            message_id=text.message_id or message_id,
            updated_at=runtime.clock(),
        )
        try:
            return SafetyText.stored(runtime.records.replace(changed.document(), str(text.version)))
        except VersionMismatchError:
            continue
    return None
