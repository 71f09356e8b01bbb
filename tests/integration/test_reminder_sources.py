"""Due visits and family members read from the Cosmos DB emulator for the reminder run."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.emulators import Emulators
from shared.adapters.cosmos_reminder_sources import (
    CosmosMemberSource,
    CosmosVisitSource,
    text_range,
)
from shared.bootstrap import get_runtime
from shared.storage_layout import RECORDS


def test_text_bounds_hold_every_offset_spelling_of_the_window() -> None:
    start = datetime(2031, 3, 1, 12, 0, tzinfo=UTC)
    low, high = text_range(start, start + timedelta(hours=24))
    assert (low, high) == ("2031-02-28T22:00:00", "2031-03-03T02:00:01")
    assert low <= "2031-03-01T02:00:00.5-10:00" < high
    assert low <= "2031-03-03T02:00:00+14:00" < high


@pytest.fixture
def container(stack: Emulators) -> Any:
    return get_runtime().database.get_container_client(RECORDS.name)


def put(container: Any, family_id: str, **fields: Any) -> str:
    record_id = str(uuid.uuid4())
    document = {"id": record_id, "familyId": family_id, "deleted": False, **fields}
    container.create_item(document)
    return record_id


def test_visits_in_the_window_whatever_their_spelling_status_or_family(container: Any) -> None:
    start = datetime(2040, 1, 1, 12, tzinfo=UTC) + timedelta(days=random.randrange(3000))
    end = start + timedelta(hours=24)
    family, other = str(uuid.uuid4()), str(uuid.uuid4())

    def visit(starts_at: str, family_id: str = family, **fields: Any) -> str:
        values = {"type": "visit", "startsAt": starts_at, "status": "scheduled", **fields}
        return put(container, family_id, **values)

    def at(moment: datetime, offset_hours: int = 0, fraction: str = "") -> str:
        local = moment + timedelta(hours=offset_hours)
        sign = "+" if offset_hours >= 0 else "-"
        suffix = "Z" if offset_hours == 0 else f"{sign}{abs(offset_hours):02d}:00"
        return local.strftime("%Y-%m-%dT%H:%M:%S") + fraction + suffix

    inside = {
        visit(at(start + timedelta(hours=1))),
        visit(at(end)),
        visit(at(start + timedelta(seconds=1), 14)),
        visit(at(end, -12)),
        visit(at(start + timedelta(hours=2), fraction=".250")),
        visit(at(start + timedelta(hours=3)), status="cancelled"),
        visit(at(start + timedelta(hours=4)), status="completed"),
        visit(at(start + timedelta(hours=5)), family_id=other),
    }
    visit(at(start))
    visit(at(start, 14))
    visit(at(end + timedelta(seconds=1), -12))
    visit(at(end + timedelta(minutes=1)))
    visit(at(start - timedelta(minutes=1)))
    visit(at(start + timedelta(hours=6)), deleted=True)
    visit(at(start + timedelta(hours=7)), status="unknown")
    put(container, family, type="note", startsAt=at(start + timedelta(hours=8)))

    found = CosmosVisitSource(container).visits_starting_between(start, end)

    mine = {v.id for v in found if v.family_id in (family, other)}
    assert mine == inside
    assert all(start < v.starts_at <= end for v in found)


def test_members_of_a_family_leave_out_deleted_ones_and_other_families(container: Any) -> None:
    family = str(uuid.uuid4())
    texted = put(
        container,
        family,
        type="member",
        displayName="Pat Doe",
        phone="+447700900301",
        smsReminders=True,
    )
    quiet = put(container, family, type="member", displayName="Kim Doe", phone="")
    put(container, family, type="member", displayName="Gone", smsReminders=True, deleted=True)
    put(container, family, type="visit", displayName="Not a member")
    put(container, str(uuid.uuid4()), type="member", displayName="Elsewhere", smsReminders=True)

    members = {m.id: m for m in CosmosMemberSource(container).members_of(family)}

    assert set(members) == {texted, quiet}
    assert members[texted].can_be_texted
    assert (members[quiet].phone, members[quiet].sms_reminders) == (None, False)
