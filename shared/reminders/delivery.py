"""ACS delivery reports (``Microsoft.Communication.SMSDeliveryReportReceived``) onto claims.

The event arrives in the Event Grid schema (``eventType`` + ``data``), as a CloudEvent
(``type`` + ``data``), or as its ``data`` alone (what an Event Grid trigger hands over). The
data carries ``messageId``, ``from``, ``to``, ``deliveryStatus`` (``Delivered`` or ``Failed``),
``deliveryStatusDetails``, ``deliveryAttempts`` and ``receivedTimestamp``, and the ``tag`` the
app sent. Field names are read without regard to case (older reports used PascalCase).

The claim is found by its tag (``familyId/claimId``: one point read), else by message id.
Applying a report is idempotent, and an older report never overwrites a newer one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.reminders.ids import parse_claim_tag
from shared.reminders.models import Claim, ClaimStatus
from shared.reminders.ports import ClaimChangedError, ClaimStore, Clock

logger = logging.getLogger(__name__)

EVENT_TYPE = "Microsoft.Communication.SMSDeliveryReportReceived"
STATUSES: dict[str, ClaimStatus] = {"delivered": "delivered", "failed": "undeliverable"}
NEVER_SENT = frozenset({"deferred", "skipped"})
APPLY_TRIES = 3


class InvalidDeliveryReportError(ValueError):
    """Not an SMS delivery report, or one without a message id."""


@dataclass(frozen=True)
class DeliveryReport:
    message_id: str
    delivery_status: str
    details: str | None
    received_at: datetime | None
    tag: str | None
    to: str | None
    sender: str | None


def parse_delivery_report(event: Mapping[str, Any]) -> DeliveryReport:
    fields = _lower_keys(event)
    kind = fields.get("eventtype") or fields.get("type")
    if "data" in fields and isinstance(fields["data"], Mapping):
        if kind is not None and kind != EVENT_TYPE:
            raise InvalidDeliveryReportError(f"Not an SMS delivery report: {kind}")
        fields = _lower_keys(fields["data"])
    message_id = fields.get("messageid")
    status = fields.get("deliverystatus")
    if not isinstance(message_id, str) or not message_id or not isinstance(status, str):
        raise InvalidDeliveryReportError("A delivery report needs messageId and deliveryStatus.")
    return DeliveryReport(
        message_id=message_id,
        delivery_status=status,
        details=_text(fields.get("deliverystatusdetails")),
        received_at=_instant(fields.get("receivedtimestamp")),
        tag=_text(fields.get("tag")),
        to=_text(fields.get("to")),
        sender=_text(fields.get("from")),
    )


def record_delivery_report(
    claims: ClaimStore, event: Mapping[str, Any], clock: Clock
) -> Claim | None:
    """Apply a delivery report event to its claim; None when no claim of ours matches."""
    report = parse_delivery_report(event)
    for _ in range(APPLY_TRIES):
        claim = _find(claims, report)
        if claim is None:
            logger.info(
                "delivery report for no known claim", extra={"messageId": report.message_id}
            )
            return None
        updated = _applied(claim, report, clock())
        if updated is claim:
            return claim
        try:
            return claims.replace(updated)
        except ClaimChangedError:
            continue
    logger.warning("delivery report not recorded", extra={"messageId": report.message_id})
    return None


def _find(claims: ClaimStore, report: DeliveryReport) -> Claim | None:
    keys = parse_claim_tag(report.tag)
    if keys is not None:
        claim = claims.get(*keys)
        if claim is not None and claim.message_id in (None, report.message_id):
            return claim
    return claims.find_by_message_id(report.message_id)


def _applied(claim: Claim, report: DeliveryReport, now: datetime) -> Claim:
    if claim.status in NEVER_SENT:
        return claim
    received = report.received_at or now
    if claim.delivery_reported_at is not None and received < claim.delivery_reported_at:
        return claim
    status = STATUSES.get(report.delivery_status.lower())
    changes: dict[str, Any] = {
        "delivery_status": report.delivery_status,
        "delivery_status_details": report.details,
        "delivery_reported_at": received,
        "message_id": claim.message_id or report.message_id,
        "updated_at": now,
    }
    if status is not None:
        changes["status"] = status
    return claim.changed(**changes)


def _lower_keys(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {str(key).lower(): value for key, value in mapping.items()}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
