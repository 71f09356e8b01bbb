"""A reminder claim for tests, with ordinary values for everything a test does not care about."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from shared.reminders.models import Claim


def reminder_claim(family_id: str, at: datetime, **changes: Any) -> Claim:
    """A 24-hour reminder claimed at ``at`` for a visit a day later, ``sent`` unless changed."""
    claim = Claim(
        id=str(uuid.uuid4()),
        family_id=family_id,
        kind="reminder",
        visit_id=str(uuid.uuid4()),
        member_id=str(uuid.uuid4()),
        window_minutes=1440,
        visit_starts_at=at + timedelta(hours=24),
        status="sent",
        attempts=1,
        to="+447911123456",
        created_at=at,
        updated_at=at,
    )
    return claim.model_copy(update=changes)
