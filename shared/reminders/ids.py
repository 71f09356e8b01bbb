"""Deterministic claim ids and the delivery-report tag that leads back to a claim.

A claim id is a UUIDv5 of what the text is about, so every run that considers the same text
computes the same id, and only the first create of it succeeds. A reminder's id includes the
visit's start time: a visit moved to another time gets new reminders; the old ones no longer
match. A cancellation notice is one per visit and member, whatever the start time.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

NAMESPACE = uuid.UUID("5b0c6f0e-8f2e-4c8e-9d83-6a1f3c1e7a42")
TAG_SEPARATOR = "/"


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def reminder_claim_id(
    visit_id: str, window: timedelta, member_id: str, visit_starts_at: datetime
) -> str:
    minutes = int(window.total_seconds() // 60)
    name = f"reminder|{visit_id}|{minutes}|{member_id}|{_instant(visit_starts_at)}"
    return str(uuid.uuid5(NAMESPACE, name))


def cancellation_claim_id(visit_id: str, member_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"cancellation|{visit_id}|{member_id}"))


def claim_tag(family_id: str, claim_id: str) -> str:
    """The SMS tag: enough to read the claim with one point read (both are opaque UUIDs)."""
    return f"{family_id}{TAG_SEPARATOR}{claim_id}"


def parse_claim_tag(tag: str | None) -> tuple[str, str] | None:
    """(family id, claim id) from a tag, or None for a tag this app did not write."""
    if not tag:
        return None
    family_id, separator, claim_id = tag.partition(TAG_SEPARATOR)
    if not separator or not family_id or not claim_id or TAG_SEPARATOR in claim_id:
        return None
    return family_id, claim_id
