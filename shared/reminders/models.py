"""Visits and members as the reminder run sees them, and the notification claim record.

A claim is the record of one text to one family member: a reminder (per visit, window, member
and the visit's start time) or a cancellation notice (per visit and member). Its deterministic
id makes the first write of it a lock that only one run can take.

Statuses:

- ``sending``: claimed by a run that is sending it now (or crashed while doing so);
- ``sent``: the gateway accepted it (``messageId``);
- ``delivered`` / ``undeliverable``: the gateway's delivery report came back;
- ``deferred``: due in quiet hours; ``nextAttemptAt`` is when quiet hours end;
- ``failed``: not sent. With ``nextAttemptAt`` it is tried again by the next run at or after
  that time; without, it failed for good (``reason`` says why);
- ``skipped``: never sent on purpose (``reason``: quiet hours until the visit, visit cancelled
  or moved, member opted out, superseded by a later window).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

NOTIFICATION_TYPE: Final = "notification"

ClaimStatus = Literal[
    "sending", "sent", "delivered", "undeliverable", "deferred", "failed", "skipped"
]
ClaimKind = Literal["reminder", "cancellation"]
VisitStatus = Literal["scheduled", "completed", "cancelled"]

REASON_QUIET_HOURS = "quiet-hours"
REASON_VISIT_CANCELLED = "visit-cancelled"
REASON_VISIT_MOVED = "visit-moved"  # to another time, out of range, or deleted
REASON_VISIT_NOT_SCHEDULED = "visit-not-scheduled"
REASON_TOO_LATE = "visit-started"
REASON_OPTED_OUT = "opted-out"
REASON_SUPERSEDED = "superseded"
REASON_TRANSIENT = "send-failed"
REASON_REJECTED = "rejected"
REASON_OUTCOME_UNKNOWN = "outcome-unknown"
REASON_ATTEMPTS_EXHAUSTED = "attempts-exhausted"


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


def instant(value: datetime) -> datetime:
    """UTC to the second: stored as ``2026-11-26T14:00:00Z``, so stored times sort as text."""
    return value.astimezone(UTC).replace(microsecond=0)


class Visit(_Model):
    id: str
    family_id: str
    starts_at: AwareDatetime
    status: VisitStatus

    @field_validator("starts_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)


class Member(_Model):
    """A family member; ``phone`` is E.164 (validated at input) or absent; texts go in
    ``preferred_language`` (BCP 47) where the borough has them in it."""

    id: str
    family_id: str
    display_name: str
    phone: str | None = None
    sms_reminders: bool = False
    preferred_language: str | None = None

    @property
    def can_be_texted(self) -> bool:
        return self.sms_reminders and bool(self.phone)


class Actor(_Model):
    id: str
    name: str
    kind: str


SYSTEM_ACTOR = Actor(id="visit-reminders", name="Visit reminders", kind="system")


class Claim(_Model):
    id: str
    family_id: str
    type: Literal["notification"] = NOTIFICATION_TYPE
    kind: ClaimKind
    visit_id: str
    member_id: str
    window_minutes: int | None = None
    visit_starts_at: AwareDatetime
    status: ClaimStatus
    reason: str | None = None
    attempts: int = 0
    next_attempt_at: AwareDatetime | None = None
    to: str | None = None
    message_id: str | None = None
    error: str | None = None
    sent_at: AwareDatetime | None = None
    delivery_status: str | None = None
    delivery_status_details: str | None = None
    delivery_reported_at: AwareDatetime | None = None
    created_at: AwareDatetime
    created_by: Actor = SYSTEM_ACTOR
    updated_at: AwareDatetime
    updated_by: Actor = SYSTEM_ACTOR
    deleted: bool = False
    version: str | None = Field(default=None, exclude=True)

    @field_validator(
        "visit_starts_at",
        "next_attempt_at",
        "sent_at",
        "delivery_reported_at",
        "created_at",
        "updated_at",
    )
    @classmethod
    def _instant(cls, value: datetime | None) -> datetime | None:
        return None if value is None else instant(value)

    def changed(self, **changes: Any) -> Claim:
        """A copy with ``changes`` (field names), validated like a new claim, same version."""
        return Claim.model_validate({**self.model_dump(), "version": self.version, **changes})

    def is_pending(self, now: datetime) -> bool:
        """Waiting to be (re)tried by a run at ``now``: deferred, or failed but retryable."""
        return (
            self.status in ("deferred", "failed")
            and self.next_attempt_at is not None
            and self.next_attempt_at <= now
        )

    @property
    def is_waiting(self) -> bool:
        """Not sent yet but will be tried again (deferred, or failed but retryable)."""
        return self.status in ("deferred", "failed") and self.next_attempt_at is not None

    @property
    def may_have_reached(self) -> bool:
        """The text may be on the member's phone."""
        if self.status in ("sending", "sent", "delivered"):
            return True
        return self.status == "failed" and self.reason == REASON_OUTCOME_UNKNOWN

    def document(self) -> dict[str, object]:
        """The JSON document stored for this claim (camelCase, RFC 3339 times)."""
        return self.model_dump(mode="json", by_alias=True)


HIDDEN_FIELDS = frozenset({"deleted"})


def present_notification(document: Mapping[str, Any]) -> dict[str, Any]:
    """A stored claim as staff see it: no message text is ever stored, so none is shown."""
    claim = Claim.model_validate(dict(document))
    shown = {k: v for k, v in claim.document().items() if k not in HIDDEN_FIELDS}
    return {**shown, "version": str(document.get("_etag", "")).strip('"')}
