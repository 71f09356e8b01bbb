"""``CosmosClaimStore`` against the local Cosmos DB emulator, and the reminder run on top of it."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.emulators import Emulators
from shared.adapters.cosmos_claims import CosmosClaimStore
from shared.bootstrap import get_runtime
from shared.reminders.delivery import EVENT_TYPE, record_delivery_report
from shared.reminders.ids import claim_tag
from shared.reminders.memory import FrozenClock, InMemoryFamilies
from shared.reminders.models import Claim, Member, Visit
from shared.reminders.ports import ClaimChangedError, ClaimExistsError
from shared.reminders.service import ReminderService, RunReport
from shared.sms.memory import MemorySmsSender
from shared.sms.port import SmsTransientError
from shared.sms.templates import SmsTemplates
from shared.storage_layout import RECORDS
from tests.claims import MeetingPoint, reminder_claim

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


@pytest.fixture
def store(stack: Emulators) -> CosmosClaimStore:
    return CosmosClaimStore.from_database(get_runtime().database)


def new_claim(family_id: str, **changes: Any) -> Claim:
    return reminder_claim(family_id, NOW, status="sending").changed(**changes)


def test_a_claim_is_created_once_and_stored_as_a_notification_record(
    store: CosmosClaimStore,
) -> None:
    family = str(uuid.uuid4())
    claim = new_claim(family)

    created = store.create(claim)
    with pytest.raises(ClaimExistsError):
        store.create(claim.changed(status="deferred"))

    assert created.version
    assert store.get(family, claim.id) == created
    raw = get_runtime().database.get_container_client(RECORDS.name).read_item(claim.id, family)
    assert raw["type"] == "notification"
    assert raw["familyId"] == family
    assert raw["visitStartsAt"] == "2026-11-27T14:00:00Z"
    assert "version" not in raw
    assert store.get(family, "no-such-claim") is None


def test_a_replace_needs_the_version_it_read(store: CosmosClaimStore) -> None:
    family = str(uuid.uuid4())
    created = store.create(new_claim(family))

    sent = store.replace(created.changed(status="sent", message_id="m-1"))
    with pytest.raises(ClaimChangedError):
        store.replace(created.changed(status="failed"))
    with pytest.raises(ClaimChangedError):
        store.replace(new_claim(family).changed(version='"0"'))

    assert sent.version != created.version
    stored = store.get(family, created.id)
    assert stored is not None
    assert (stored.status, stored.message_id) == ("sent", "m-1")


def test_claims_are_found_by_visit_by_message_id_overdue_and_per_family(
    store: CosmosClaimStore,
) -> None:
    family, other = str(uuid.uuid4()), str(uuid.uuid4())
    first = store.create(new_claim(family, message_id=f"msg-{uuid.uuid4()}", status="sent"))
    later = store.create(new_claim(family, created_at=NOW + timedelta(minutes=1)))
    waiting = store.create(
        new_claim(other, status="deferred", next_attempt_at=NOW + timedelta(hours=1))
    )
    visit = Visit(id=first.visit_id, family_id=family, starts_at=NOW, status="scheduled")
    elsewhere = Visit(id=first.visit_id, family_id=other, starts_at=NOW, status="scheduled")

    assert store.for_visits([visit]) == [first]
    assert store.for_visits([elsewhere]) == []
    assert store.find_by_message_id(str(first.message_id)) == first
    assert store.find_by_message_id("msg-none") is None
    assert [c.id for c in store.for_family(family)] == [later.id, first.id]
    overdue = {c.id for c in store.overdue(NOW + timedelta(hours=1), NOW + timedelta(seconds=30))}
    assert waiting.id in overdue
    assert later.id in overdue
    assert first.id not in overdue
    early = {c.id for c in store.overdue(NOW + timedelta(minutes=59), NOW - timedelta(seconds=1))}
    assert {waiting.id, later.id}.isdisjoint(early)


def family_with_visit(families: InMemoryFamilies) -> Visit:
    family = str(uuid.uuid4())
    for name, phone in (("Sam Patel", "+447911123456"), ("Alex", "+447911123457")):
        families.put_member(
            Member(
                id=str(uuid.uuid4()),
                family_id=family,
                display_name=name,
                phone=phone,
                sms_reminders=True,
            )
        )
    visit = Visit(
        id=str(uuid.uuid4()),
        family_id=family,
        starts_at=NOW + timedelta(hours=24),
        status="scheduled",
    )
    return families.put_visit(visit)


def service(
    families: InMemoryFamilies, claims: Any, sender: MemorySmsSender, clock: FrozenClock
) -> ReminderService:
    return ReminderService(
        visits=families,
        members=families,
        claims=claims,
        sender=sender,
        templates=SmsTemplates("Family Support"),
        clock=clock,
    )


def test_two_concurrent_runs_on_cosmos_send_once(store: CosmosClaimStore) -> None:
    families, sender, clock = InMemoryFamilies(), MemorySmsSender(), FrozenClock(NOW)
    visit = family_with_visit(families)
    meeting = MeetingPoint(store, 2)
    reports: list[RunReport] = []
    threads = [
        threading.Thread(
            target=lambda: reports.append(service(families, meeting, sender, clock).run())
        )
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    again = service(families, store, sender, clock).run()

    assert len(sender.sent) == 2
    assert sorted((r.sent, r.already_claimed) for r in reports) in (
        [(0, 2), (2, 0)],
        [(1, 1), (1, 1)],
    )
    assert again.sent == 0
    assert {c.status for c in store.for_visits([visit])} == {"sent"}


def test_a_failed_send_is_retried_by_the_next_run_and_reported_delivered(
    store: CosmosClaimStore,
) -> None:
    families, sender, clock = InMemoryFamilies(), MemorySmsSender(), FrozenClock(NOW)
    visit = family_with_visit(families)
    sender.fail_next(SmsTransientError("ACS answered 503"), times=2)

    first = service(families, store, sender, clock).run()
    clock.advance(timedelta(minutes=5))
    second = service(families, store, sender, clock).run()
    [sms, _] = sender.sent
    event = {
        "eventType": EVENT_TYPE,
        "data": {"messageId": sms.message_id, "deliveryStatus": "Delivered", "tag": sms.tag},
    }
    delivered = record_delivery_report(store, event, clock)

    assert (first.failed, second.sent, len(sender.sent)) == (2, 2, 2)
    assert delivered is not None
    assert delivered.status == "delivered"
    assert sms.tag == claim_tag(visit.family_id, delivered.id)
    assert {c.attempts for c in store.for_visits([visit])} == {2}
