"""In-memory visits, members, claims and a frozen clock, for tests and experiments.

``InMemoryClaimStore`` keeps the promises of the Cosmos DB adapter: create fails when the id
is taken, replace fails when the version moved on, and both are atomic across threads.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from shared.reminders.models import Claim, Member, Visit
from shared.reminders.ports import ClaimChangedError, ClaimExistsError


class InMemoryClaimStore:
    def __init__(self) -> None:
        self._claims: dict[tuple[str, str], Claim] = {}
        self._lock = threading.Lock()

    def create(self, claim: Claim) -> Claim:
        with self._lock:
            key = (claim.family_id, claim.id)
            if key in self._claims:
                raise ClaimExistsError(claim.id)
            stored = claim.model_copy(update={"version": uuid.uuid4().hex})
            self._claims[key] = stored
            return stored

    def get(self, family_id: str, claim_id: str) -> Claim | None:
        with self._lock:
            return self._claims.get((family_id, claim_id))

    def replace(self, claim: Claim) -> Claim:
        with self._lock:
            key = (claim.family_id, claim.id)
            current = self._claims.get(key)
            if current is None or current.version != claim.version:
                raise ClaimChangedError(claim.id)
            stored = claim.model_copy(update={"version": uuid.uuid4().hex})
            self._claims[key] = stored
            return stored

    def for_visits(self, visits: Sequence[Visit]) -> list[Claim]:
        wanted = {(visit.family_id, visit.id) for visit in visits}
        with self._lock:
            return [c for c in self._claims.values() if (c.family_id, c.visit_id) in wanted]

    def overdue(self, now: datetime, stuck_before: datetime) -> list[Claim]:
        with self._lock:
            return [
                c
                for c in self._claims.values()
                if c.is_pending(now) or (c.status == "sending" and c.updated_at <= stuck_before)
            ]

    def find_by_message_id(self, message_id: str) -> Claim | None:
        with self._lock:
            return next((c for c in self._claims.values() if c.message_id == message_id), None)

    def for_family(self, family_id: str) -> list[Claim]:
        with self._lock:
            found = [c for c in self._claims.values() if c.family_id == family_id]
        return sorted(found, key=lambda c: (c.created_at, c.id), reverse=True)

    def all(self) -> list[Claim]:
        with self._lock:
            return list(self._claims.values())


class InMemoryFamilies:
    """Visits and members: a ``VisitSource`` and a ``MemberSource``."""

    def __init__(self) -> None:
        self.visits: dict[str, Visit] = {}
        self.members: dict[str, Member] = {}

    def put_visit(self, visit: Visit) -> Visit:
        self.visits[visit.id] = visit
        return visit

    def put_member(self, member: Member) -> Member:
        self.members[member.id] = member
        return member

    def visits_starting_between(self, start: datetime, end: datetime) -> list[Visit]:
        return [v for v in self.visits.values() if start < v.starts_at <= end]

    def members_of(self, family_id: str) -> list[Member]:
        return [m for m in self.members.values() if m.family_id == family_id]


class FrozenClock:
    def __init__(self, now: datetime) -> None:
        self.now = now.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now.astimezone(UTC)

    def advance(self, by: timedelta) -> None:
        self.now += by
