"""Reminder claims for tests: a claim with ordinary values for everything a test does not care
about, and a claim store that makes concurrent runs race."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from shared.reminders.models import Claim, Visit
from shared.reminders.ports import ClaimStore


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


class MeetingPoint:
    """Claims that make the runs wait for each other after reading them, so they all race to
    claim the same texts."""

    def __init__(self, claims: ClaimStore, runs: int, timeout: float = 20) -> None:
        self._claims = claims
        self._barrier = threading.Barrier(runs, timeout=timeout)

    def for_visits(self, visits: Sequence[Visit]) -> list[Claim]:
        found = self._claims.for_visits(visits)
        self._barrier.wait()
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._claims, name)
