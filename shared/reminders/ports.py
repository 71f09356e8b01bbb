"""What the reminder run needs from storage: visits, members and notification claims."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from shared.reminders.models import Claim, Member, Visit

Clock = Callable[[], datetime]


class ClaimExistsError(Exception):
    """A claim with this id exists already: another run has it."""


class ClaimChangedError(Exception):
    """The claim changed since it was read (its version no longer matches)."""


class VisitSource(Protocol):
    def visits_starting_between(self, start: datetime, end: datetime) -> list[Visit]:
        """Visits with ``start < startsAt <= end`` of every status, deleted ones left out.

        Backed by an index on the start time, so it costs what it returns.
        """
        ...


class MemberSource(Protocol):
    def members_of(self, family_id: str) -> list[Member]:
        """The family's current (not deleted) members."""
        ...


class ClaimStore(Protocol):
    def create(self, claim: Claim) -> Claim:
        """Store a new claim; raise ``ClaimExistsError`` if its id is taken."""
        ...

    def get(self, family_id: str, claim_id: str) -> Claim | None: ...

    def replace(self, claim: Claim) -> Claim:
        """Store ``claim`` if the stored one still has ``claim.version``.

        Raise ``ClaimChangedError`` otherwise (or when it is gone).
        """
        ...

    def for_visits(self, visits: Sequence[Visit]) -> list[Claim]:
        """Every claim about any of ``visits``."""
        ...

    def overdue(self, now: datetime, stuck_before: datetime) -> list[Claim]:
        """Claims waiting for a retry or the end of quiet hours (``nextAttemptAt <= now``),
        and claims left ``sending`` since before ``stuck_before``."""
        ...

    def find_by_message_id(self, message_id: str) -> Claim | None: ...

    def for_family(self, family_id: str) -> list[Claim]:
        """The family's claims, newest first."""
        ...
