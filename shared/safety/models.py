"""Safety alerts as stored and shown, and the record of each text an alert sets off.

An alert (``type: "safetyAlert"``) lives in its family's partition of ``records``, beside the
texts it set off (``type: "safetyText"``), so the family's export and disposal find them where
everything else is.

A text's id is a UUIDv5 of the alert and its recipient (an allocated worker's or manager's oid,
or ``duty``): every request, retry or timer run that considers the same text computes the same
id, and only the first create of it succeeds. Statuses, as for visit reminders:

- ``sending``: claimed by whoever sends it now (or crashed doing so);
- ``sent``: the gateway accepted it (``messageId``); ``delivered``/``undeliverable`` if a
  delivery report came back;
- ``failed``: not sent. With ``nextAttemptAt`` the next follow-up run sends it again; without,
  it failed for good (``reason``: ``rejected``, ``attempts-exhausted``, ``outcome-unknown`` when
  it may have gone, ``no-phone`` when a member of staff's was removed meanwhile,
  ``no-duty-phone`` when ``SAFETY_DUTY_PHONE`` is not set);
- ``skipped``: no longer needed (``reason: acknowledged``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)
from pydantic.alias_generators import to_camel

from shared.models import ApiModel, InputModel
from shared.records.models import Id, UtcDateTime

ALERT_TYPE: Final = "safetyAlert"
TEXT_TYPE: Final = "safetyText"
NAMESPACE = uuid.UUID("c7b5d0a4-9e3f-4b61-8a2d-5f0e1c9b7a36")
DUTY = "duty"

ADVICE = (
    "If you or someone else is in danger now, call 999. FamilyStory is not an emergency service: "
    "your message goes to your social work team, who may not see it straight away. Children and "
    "young people can call Childline free on 0800 1111, any time."
)

Message = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Texting = Literal["staff", "joined", "duty"]
"""How an alert sets off texts: ``staff``: to every allocated worker and team manager with a
phone, then the duty team if no one acknowledges in time; ``joined``: none of its own, because
an alert of the same member is under way (its texts and escalation cover this one); ``duty``:
over the member's hourly allowance, so no staff texts, only the duty team's if no one
acknowledges in time."""
RecipientKind = Literal["worker", "manager", "duty"]
TextStatus = Literal["sending", "sent", "delivered", "undeliverable", "failed", "skipped"]

REASON_TRANSIENT = "send-failed"
REASON_REJECTED = "rejected"
REASON_OUTCOME_UNKNOWN = "outcome-unknown"
REASON_ATTEMPTS_EXHAUSTED = "attempts-exhausted"
REASON_ACKNOWLEDGED = "acknowledged"
REASON_NO_DUTY_PHONE = "no-duty-phone"
REASON_NO_PHONE = "no-phone"


def text_id(alert_id: str, recipient: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"safety|{alert_id}|{recipient}"))


def reference(alert_id: str) -> str:
    """What a text calls the alert: eight characters of its id, nothing about the family."""
    return alert_id.replace("-", "")[:8].upper()


class AlertIn(InputModel):
    """A family member's request for help. ``writtenAt``: when it was written, if not now (a
    device that queued it offline says so)."""

    id: Id | None = None
    message: Message | None = None
    written_at: UtcDateTime | None = None


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


def _instant(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(microsecond=0)


class Recipient(_Model):
    kind: RecipientKind
    oid: str | None = None

    @property
    def key(self) -> str:
        return self.oid or DUTY


class SafetyText(_Model):
    id: str
    family_id: str
    type: Literal["safetyText"] = TEXT_TYPE
    alert_id: str
    recipient: Recipient
    to: str | None = None
    status: TextStatus
    reason: str | None = None
    attempts: int = 0
    next_attempt_at: AwareDatetime | None = None
    message_id: str | None = None
    error: str | None = None
    sent_at: AwareDatetime | None = None
    delivery_status: str | None = None
    delivery_reported_at: AwareDatetime | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    deleted: bool = False
    version: str | None = Field(default=None, exclude=True)

    @field_validator(
        "next_attempt_at", "sent_at", "delivery_reported_at", "created_at", "updated_at"
    )
    @classmethod
    def _second(cls, value: datetime | None) -> datetime | None:
        return None if value is None else _instant(value)

    def changed(self, **changes: Any) -> SafetyText:
        return SafetyText.model_validate({**self.model_dump(), "version": self.version, **changes})

    def document(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

    @classmethod
    def stored(cls, document: dict[str, Any]) -> SafetyText:
        return cls.model_validate({**document, "version": document.get("_etag")})

    def due(self, now: datetime) -> bool:
        return (
            self.status == "failed"
            and self.next_attempt_at is not None
            and self.next_attempt_at <= now
        )

    @property
    def waiting(self) -> bool:
        return self.status == "failed" and self.next_attempt_at is not None

    @property
    def failed_for_good(self) -> bool:
        return (
            self.status in ("failed", "undeliverable")
            and self.next_attempt_at is None
            and (self.reason != REASON_OUTCOME_UNKNOWN)
        )


class ActorOut(ApiModel):
    id: str
    name: str
    kind: str


class RecipientOut(ApiModel):
    kind: str
    oid: str | None = None


class TextOut(ApiModel):
    """A text as staff see it: to whom (by role and staff id, never the number) and what
    became of it."""

    recipient: RecipientOut
    status: str
    reason: str | None = None
    attempts: int | None = None
    sent_at: str | None = None
    created_at: str | None = None


class AlertOut(ApiModel):
    """An alert as its reader may see it. Family members get ``status``, the times and their
    message, and texts by kind of recipient; staff also who acknowledged, how it texted and
    when it escalates."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str
    family_id: str
    type: str
    reference: str
    status: Literal["raised", "acknowledged"]
    message: str | None = None
    written_at: str
    received_at: str
    written_at_adjusted: bool | None = None
    acknowledged_at: str | None = None
    acknowledged_by: ActorOut | None = None
    member_id: str | None = None
    texting: str | None = None
    joined_to: str | None = None
    escalate_at: str | None = None
    texts: list[TextOut] = Field(default_factory=list)
    advice: str
    created_at: str
    created_by: ActorOut
    updated_at: str | None = None
    version: str
