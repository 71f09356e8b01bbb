"""Safety alerts on the in-memory ports, with a frozen clock: who is texted, when, never twice."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.access import Caller
from shared.errors import ConflictError, ForbiddenError, NotFoundError
from shared.safety import alerts
from shared.safety.models import ADVICE, AlertIn, reference
from shared.sms.port import SmsOutcomeUnknownError, SmsPermanentError, SmsTransientError
from tests.fakes import FakeRuntime
from tests.unit.services.casebook import Casebook, signed_in, staff, uid

WORKER_PHONE = "+447700900501"
MANAGER_PHONE = "+447700900502"
DUTY_PHONE = "+447700900599"
LATE_EVENING = datetime(2026, 12, 1, 23, 10, tzinfo=UTC)  # quiet hours for reminders


def give_phone(book: Casebook, caller: Caller, phone: str | None) -> None:
    """A staff entry with a phone, and the roles the person's sign-ins showed."""
    runtime = book.runtime
    key = f"staff:{runtime.settings.staff_tenant_id}:{caller.id}"
    entry = dict(runtime.directory.read(key) or {})
    entry = {k: v for k, v in entry.items() if not k.startswith("_")}
    entry["roles"] = sorted(caller.principal.roles)
    if phone:
        entry["phone"] = phone
    else:
        entry.pop("phone", None)
    runtime.directory.upsert(entry)


@pytest.fixture
def book() -> Casebook:
    casebook = Casebook(FakeRuntime(now=LATE_EVENING, safety_duty_phone=DUTY_PHONE))
    give_phone(casebook, casebook.worker, WORKER_PHONE)
    give_phone(casebook, casebook.manager, MANAGER_PHONE)
    return casebook


def raise_alert(book: Casebook, by: Caller | None = None, **fields: Any) -> dict[str, Any]:
    body = AlertIn.model_validate({"message": "I am scared", **fields})
    made = alerts.raise_alert(book.runtime, by or book.parent, book.family_id, body)
    return made.document


def texted(book: Casebook) -> list[str]:
    return sorted(sms.to for sms in book.runtime.sms_sender.sent)


def later(book: Casebook, minutes: float) -> None:
    book.runtime.clock.advance(timedelta(minutes=minutes))
    alerts.follow_up_due(book.runtime)


def test_an_alert_texts_each_allocated_worker_and_team_manager_at_once_in_quiet_hours(
    book: Casebook,
) -> None:
    alert = raise_alert(book)

    assert texted(book) == [WORKER_PHONE, MANAGER_PHONE]
    assert alert["status"] == "raised"
    assert alert["advice"] == ADVICE
    assert "999" in alert["advice"]
    assert {t["recipient"]["kind"] for t in alert["texts"]} == {"worker", "manager"}
    assert all(t["status"] == "sent" for t in alert["texts"])


def test_the_text_says_nothing_of_the_family_the_person_or_the_message(book: Casebook) -> None:
    alert = raise_alert(book, message="My dad Sam Jones hit me")

    for sms in book.runtime.sms_sender.sent:
        assert "asked for help" in sms.text
        assert reference(alert["id"]) in sms.text
        for private in ("Sam", "Jones", "hit", "The Family", book.family_id, "Parent"):
            assert private not in sms.text


def test_staff_without_a_phone_and_other_teams_managers_are_not_texted(book: Casebook) -> None:
    other_manager = staff(book.runtime, "TeamManager", (book.other_team,))
    give_phone(book, other_manager, "+447700900503")
    give_phone(book, book.manager, None)

    raise_alert(book)

    assert texted(book) == [WORKER_PHONE]


def test_a_repeated_post_with_the_same_id_raises_nothing_new(book: Casebook) -> None:
    alert_id = uid()
    first = raise_alert(book, id=alert_id)
    again = alerts.raise_alert(
        book.runtime,
        book.parent,
        book.family_id,
        AlertIn.model_validate({"id": alert_id, "message": "I am scared"}),
    )

    assert again.created is False
    assert again.document["id"] == first["id"]
    assert texted(book) == [WORKER_PHONE, MANAGER_PHONE]
    with pytest.raises(ConflictError):
        raise_alert(book, id=alert_id, message="Something else")


def test_concurrent_deliveries_of_one_alert_text_each_person_once(book: Casebook) -> None:
    alert_id = uid()
    start = threading.Barrier(6)
    failures: list[BaseException] = []

    def deliver() -> None:
        start.wait()
        try:
            raise_alert(book, id=alert_id)
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=deliver) for _ in range(5)]
    for thread in threads:
        thread.start()
    start.wait()
    alerts.follow_up_due(book.runtime)
    for thread in threads:
        thread.join(10)

    assert failures == []
    assert texted(book) == [WORKER_PHONE, MANAGER_PHONE]


def test_no_acknowledgement_in_time_texts_the_duty_team_exactly_once(book: Casebook) -> None:
    alert = raise_alert(book)

    later(book, 14)
    assert DUTY_PHONE not in texted(book)
    later(book, 1)
    later(book, 1)
    later(book, 60)

    duty = [sms for sms in book.runtime.sms_sender.sent if sms.to == DUTY_PHONE]
    assert len(duty) == 1
    assert "15 min" in duty[0].text
    assert reference(alert["id"]) in duty[0].text
    shown = alerts.read_alert(book.runtime, book.worker, book.family_id, alert["id"])
    assert [t["recipient"]["kind"] for t in shown["texts"]].count("duty") == 1
    stored = book.runtime.records.read(book.family_id, alert["id"])
    assert stored is not None
    assert stored.get("followUpAt") is None


def test_an_acknowledged_alert_is_not_escalated(book: Casebook) -> None:
    alert = raise_alert(book)
    later(book, 5)

    acknowledged = alerts.acknowledge(book.runtime, book.manager, book.family_id, alert["id"])
    later(book, 30)

    assert acknowledged["status"] == "acknowledged"
    assert acknowledged["acknowledgedBy"]["id"] == book.manager.id
    assert DUTY_PHONE not in texted(book)


def test_an_alert_no_staff_phone_can_reach_escalates_at_once(book: Casebook) -> None:
    give_phone(book, book.worker, None)
    give_phone(book, book.manager, None)

    raise_alert(book)

    assert texted(book) == [DUTY_PHONE]
    later(book, 30)
    assert texted(book) == [DUTY_PHONE]


def test_staff_texts_failing_during_an_outage_are_retried_once_back_and_never_doubled(
    book: Casebook,
) -> None:
    sender = book.runtime.sms_sender
    sender.fail_next(SmsTransientError("ACS answered 503"), times=2)

    alert = raise_alert(book)
    assert texted(book) == []
    later(book, 1)
    later(book, 1)
    later(book, 1)

    assert texted(book) == [WORKER_PHONE, MANAGER_PHONE]
    shown = alerts.read_alert(book.runtime, book.worker, book.family_id, alert["id"])
    assert sorted(t["attempts"] for t in shown["texts"]) == [2, 2]


def test_the_duty_escalation_happens_even_while_staff_texts_fail(book: Casebook) -> None:
    sender = book.runtime.sms_sender
    sender.fail_next(SmsTransientError("ACS answered 503"), times=2 * 14 + 2)

    raise_alert(book)
    for _ in range(14):
        later(book, 1)
    assert texted(book) == []
    later(book, 1)
    later(book, 1)
    later(book, 1)

    assert texted(book).count(DUTY_PHONE) == 1
    assert texted(book).count(WORKER_PHONE) == 1


def test_staff_texts_refused_for_good_escalate_at_once(book: Casebook) -> None:
    book.runtime.sms_sender.fail_next(SmsPermanentError("ACS recipient answered 400"), times=2)

    raise_alert(book)

    assert texted(book) == [DUTY_PHONE]


def test_a_text_whose_outcome_is_unknown_is_never_sent_again(book: Casebook) -> None:
    give_phone(book, book.manager, None)
    book.runtime.sms_sender.fail_next(SmsOutcomeUnknownError("no answer from ACS"))

    alert = raise_alert(book)
    later(book, 1)
    later(book, 5)

    assert book.runtime.sms_sender.attempts == 1
    shown = alerts.read_alert(book.runtime, book.worker, book.family_id, alert["id"])
    assert shown["texts"][0]["reason"] == "outcome-unknown"
    later(book, 10)
    assert texted(book) == [DUTY_PHONE]


def test_a_crash_before_texting_is_finished_by_the_next_run(book: Casebook) -> None:
    original = alerts.follow_up
    calls: list[str] = []

    def crash(runtime: Any, alert: Any, report: Any = None) -> Any:
        calls.append(alert["id"])
        raise RuntimeError("the instance died")

    alerts.follow_up = crash
    try:
        with pytest.raises(RuntimeError):
            raise_alert(book)
    finally:
        alerts.follow_up = original
    assert texted(book) == []

    later(book, 1)

    assert calls
    assert texted(book) == [WORKER_PHONE, MANAGER_PHONE]


def test_acknowledgement_is_recorded_once_and_only_staff_with_access_give_it(
    book: Casebook,
) -> None:
    alert = raise_alert(book)
    book.runtime.clock.advance(timedelta(minutes=2))

    first = alerts.acknowledge(book.runtime, book.worker, book.family_id, alert["id"])
    book.runtime.clock.advance(timedelta(minutes=2))
    second = alerts.acknowledge(book.runtime, book.head, book.family_id, alert["id"])

    assert second["acknowledgedBy"] == first["acknowledgedBy"]
    assert second["acknowledgedAt"] == first["acknowledgedAt"]
    with pytest.raises(ForbiddenError):
        alerts.acknowledge(book.runtime, book.parent, book.family_id, alert["id"])
    with pytest.raises(NotFoundError):
        alerts.acknowledge(book.runtime, book.outsider, book.family_id, alert["id"])
    actions = book.events()
    assert ("raise", "ok") in actions
    assert ("text", "ok") in actions
    assert ("acknowledge", "ok") in actions
    assert ("acknowledge", "replayed") in actions


def test_the_family_member_sees_their_own_alert_received_and_acknowledged_no_numbers(
    book: Casebook,
) -> None:
    alert = raise_alert(book)
    alerts.acknowledge(book.runtime, book.worker, book.family_id, alert["id"])

    [seen] = alerts.list_alerts(book.runtime, book.parent, book.family_id, 50, None).documents

    assert seen["status"] == "acknowledged"
    assert seen["acknowledgedAt"]
    assert "acknowledgedBy" not in seen
    assert seen["receivedAt"]
    assert {t["recipient"]["kind"] for t in seen["texts"]} == {"worker", "manager"}
    assert all("oid" not in t["recipient"] for t in seen["texts"])
    assert WORKER_PHONE not in str(seen)
    staff_view = alerts.read_alert(book.runtime, book.worker, book.family_id, alert["id"])
    assert WORKER_PHONE not in str(staff_view)
    assert {t["recipient"]["oid"] for t in staff_view["texts"]} == {
        book.worker.id,
        book.manager.id,
    }


def test_another_member_of_the_family_does_not_see_the_alert(book: Casebook) -> None:
    alert = raise_alert(book)
    sibling = signed_in(book.runtime, {book.family_id: uid()})

    assert alerts.list_alerts(book.runtime, sibling, book.family_id, 50, None).documents == []
    with pytest.raises(NotFoundError):
        alerts.read_alert(book.runtime, sibling, book.family_id, alert["id"])


def test_staff_cannot_raise_an_alert(book: Casebook) -> None:
    with pytest.raises(ForbiddenError):
        raise_alert(book, by=book.worker)


def test_presses_while_an_alert_is_under_way_join_it_and_text_nobody_again(
    book: Casebook,
) -> None:
    first = raise_alert(book)
    book.runtime.clock.advance(timedelta(minutes=1))
    second = raise_alert(book, message="please")

    assert texted(book) == [WORKER_PHONE, MANAGER_PHONE]
    stored = book.runtime.records.read(book.family_id, second["id"])
    assert stored is not None
    assert stored["texting"] == "joined"
    assert stored["joinedTo"] == first["id"]
    alerts.acknowledge(book.runtime, book.worker, book.family_id, first["id"])
    seen = alerts.read_alert(book.runtime, book.parent, book.family_id, second["id"])
    assert seen["status"] == "acknowledged"


def test_over_the_hourly_allowance_an_alert_still_reaches_the_duty_team(book: Casebook) -> None:
    for _ in range(3):
        made = raise_alert(book)
        alerts.acknowledge(book.runtime, book.worker, book.family_id, made["id"])
        book.runtime.clock.advance(timedelta(minutes=5))
    assert len(texted(book)) == 6

    fourth = raise_alert(book)
    assert len(texted(book)) == 6
    stored = book.runtime.records.read(book.family_id, fourth["id"])
    assert stored is not None
    assert stored["texting"] == "duty"
    later(book, 15)

    assert texted(book).count(DUTY_PHONE) == 1
    listed = alerts.list_alerts(book.runtime, book.worker, book.family_id, 50, None).documents
    assert fourth["id"] in [a["id"] for a in listed]


def test_the_time_written_is_kept_and_a_future_one_is_not_believed(book: Casebook) -> None:
    now = book.runtime.clock()
    offline = raise_alert(book, writtenAt=(now - timedelta(hours=3)).isoformat())
    alerts.acknowledge(book.runtime, book.worker, book.family_id, offline["id"])
    skewed = raise_alert(book, writtenAt=(now + timedelta(hours=2)).isoformat())

    assert offline["writtenAt"].startswith((now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
    assert offline["receivedAt"].startswith(now.strftime("%Y-%m-%dT%H:%M"))
    assert skewed["writtenAt"] == skewed["receivedAt"]
    assert skewed["writtenAtAdjusted"] is True


def test_without_a_duty_phone_the_escalation_is_recorded_as_failed(book: Casebook) -> None:
    runtime = book.runtime
    runtime.settings = runtime.settings.model_copy(update={"safety_duty_phone": ""})
    give_phone(book, book.worker, None)
    give_phone(book, book.manager, None)

    alert = raise_alert(book)

    assert texted(book) == []
    shown = alerts.read_alert(runtime, book.worker, book.family_id, alert["id"])
    assert [(t["recipient"]["kind"], t["reason"]) for t in shown["texts"]] == [
        ("duty", "no-duty-phone")
    ]
