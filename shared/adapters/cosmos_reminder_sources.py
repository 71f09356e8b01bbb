"""Visits and members for the reminder run, read from the Cosmos DB ``records`` container.

The due visits are one cross-partition range query on ``startsAt``, served by the range index
every string path has (``/*`` is included in the container's indexing policy), so it reads the
visits that start in the window and no others: its cost follows the visits that are due, not
the visits held. No ``ORDER BY``: the run sorts the few it gets.

``startsAt`` is stored as the client sent it (RFC 3339, with ``Z`` or an offset, with or
without fractions of a second), so text order is time order only for times in the same
offset. The range asked for is therefore widened by the largest offset there is (14 hours)
on each side, and the exact ``start < startsAt <= end`` is applied to the parsed instants.

A family's members are one single-partition query.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from shared.adapters.cosmos_query import query
from shared.reminders.models import Member, Visit
from shared.storage_layout import RECORDS

if TYPE_CHECKING:
    from shared.adapters.cosmos import ContainerProxy, DatabaseProxy

logger = logging.getLogger(__name__)

LARGEST_OFFSET = timedelta(hours=14)
WALL_CLOCK = "%Y-%m-%dT%H:%M:%S"

DUE_VISITS = (
    "SELECT c.id, c.familyId, c.startsAt, c.status FROM c "
    "WHERE c.type = 'visit' AND c.startsAt >= @low AND c.startsAt < @high "
    "AND c.deleted = false"
)
MEMBERS = (
    "SELECT c.id, c.familyId, c.displayName, c.phone, c.smsReminders, c.preferredLanguage "
    "FROM c "
    "WHERE c.familyId = @familyId AND c.type = 'member' AND c.deleted = false"
)


def text_range(start: datetime, end: datetime) -> tuple[str, str]:
    """Text bounds ``[low, high)`` holding every RFC 3339 spelling of an instant in
    ``(start, end]``, whatever its offset."""
    low = (start.astimezone(UTC) - LARGEST_OFFSET).strftime(WALL_CLOCK)
    high = (end.astimezone(UTC) + LARGEST_OFFSET + timedelta(seconds=1)).strftime(WALL_CLOCK)
    return low, high


class CosmosVisitSource:
    def __init__(self, container: ContainerProxy) -> None:
        self._container = container

    @classmethod
    def from_database(cls, database: DatabaseProxy) -> CosmosVisitSource:
        return cls(database.get_container_client(RECORDS.name))

    def visits_starting_between(self, start: datetime, end: datetime) -> list[Visit]:
        low, high = text_range(start, end)
        rows = query(self._container, DUE_VISITS, {"@low": low, "@high": high})
        visits: list[Visit] = []
        for row in rows:
            visit = _visit(row)
            if visit is not None and start < visit.starts_at <= end:
                visits.append(visit)
        return visits


class CosmosMemberSource:
    def __init__(self, container: ContainerProxy) -> None:
        self._container = container

    @classmethod
    def from_database(cls, database: DatabaseProxy) -> CosmosMemberSource:
        return cls(database.get_container_client(RECORDS.name))

    def members_of(self, family_id: str) -> list[Member]:
        rows = query(self._container, MEMBERS, {"@familyId": family_id}, family_id)
        members: list[Member] = []
        for row in rows:
            member = _member(row)
            if member is not None:
                members.append(member)
        return members


def _visit(row: dict[str, Any]) -> Visit | None:
    try:
        return Visit.model_validate(row)
    except ValidationError:
        logger.warning("visit left out of reminders: unreadable", extra={"visitId": row.get("id")})
        return None


def _member(row: dict[str, Any]) -> Member | None:
    try:
        return Member.model_validate(
            {
                **row,
                "phone": row.get("phone") or None,
                "smsReminders": bool(row.get("smsReminders")),
            }
        )
    except ValidationError:
        logger.warning(
            "member left out of reminders: unreadable", extra={"memberId": row.get("id")}
        )
        return None
