"""Visit reminders end to end: families, members and visits made through the API, the timer and
Event Grid functions called as the host calls them, on the emulators, with a frozen clock.

Every test works in its own family and at its own instant years ahead, so visits other tests
hold never fall in its reminder window; assertions look at this family's texts only.
"""

from __future__ import annotations

import asyncio
import random
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import azure.functions as func
import pytest

from functions import notifications
from local.emulators import Emulators
from local.host.eventgrid import DeliveryRules, EventGrid
from local.host.http import build_asgi
from local.subscriptions import SMS_DELIVERY_REPORTS
from shared.bootstrap import get_runtime, reset_runtime
from shared.reminders.delivery import EVENT_TYPE
from shared.reminders.memory import FrozenClock
from shared.sms.outbox import OutboxSmsSender
from tests.acs_server import AcsSmsServer
from tests.functional.world import World
from tests.tokens import family_token

LONDON = ZoneInfo("Europe/London")
PAT, LEE, JO, KIM = "+447700900301", "+447700900302", "+447700900303", "+447700900304"


def run_timer() -> None:
    function = notifications.reminders_send_due.build().get_user_function()
    function(func.timer.TimerRequest(past_due=False))


def deliver(event: func.EventGridEvent) -> None:
    notifications.reminders_delivery_report.build().get_user_function()(event)


def delivery_report(
    message_id: str, tag: str | None, received: datetime, status: str = "Delivered"
) -> func.EventGridEvent:
    return func.EventGridEvent(
        id=str(uuid.uuid4()),
        data={
            "messageId": message_id,
            "from": "FamilyStory",
            "to": "+447700900301",
            "deliveryStatus": status,
            "deliveryStatusDetails": "No error.",
            "receivedTimestamp": received.isoformat(),
            "deliveryAttempts": [],
            "tag": tag,
        },
        topic="/subscriptions/s/resourceGroups/g/providers/Microsoft.Communication/acs",
        subject="/phonenumber/447700900301",
        event_type=EVENT_TYPE,
        event_time=datetime.now(UTC),
        data_version="1.0",
    )


def a_day_at(hour: int) -> datetime:
    """An instant at ``hour`` London time on a day of its own, years ahead."""
    day = datetime(2031, 1, 1) + timedelta(days=random.randrange(3000))
    return day.replace(hour=hour, minute=random.randrange(60), tzinfo=LONDON).astimezone(UTC)


@dataclass
class Reminders:
    world: World
    clock: FrozenClock
    outbox: OutboxSmsSender

    @property
    def token(self) -> str:
        return self.world.people["social_worker"].token

    def family(self, *members: tuple[str, str | None, bool]) -> tuple[str, dict[str, str]]:
        api = self.world.api
        made = api.post(
            "/families", self.token, {"displayName": "Doe", "teamId": self.world.team_a}
        )
        assert made.status == 201, made.body
        family_id = str(made.body["id"])
        ids: dict[str, str] = {}
        for name, phone, opted_in in members:
            body: dict[str, Any] = {
                "displayName": name,
                "relationship": "parent",
                "smsReminders": opted_in,
            }
            if phone:
                body["phone"] = phone
            member = api.post(f"/families/{family_id}/members", self.token, body)
            assert member.status == 201, member.body
            ids[name] = str(member.body["id"])
        return family_id, ids

    def visit(self, family_id: str, starts_at: datetime, status: str = "scheduled") -> str:
        body = {
            "startsAt": starts_at.astimezone(LONDON).isoformat(),
            "endsAt": (starts_at + timedelta(hours=1)).isoformat(),
            "status": status,
        }
        made = self.world.api.post(f"/families/{family_id}/visits", self.token, body)
        assert made.status == 201, made.body
        return str(made.body["id"])

    def change_visit(self, family_id: str, visit_id: str, patch: dict[str, Any]) -> None:
        path = f"/families/{family_id}/visits/{visit_id}"
        changed = self.world.api.patch(path, self.token, patch)
        assert changed.status == 200, changed.body

    def texts(self, family_id: str) -> list[dict[str, str]]:
        return [t for t in self.outbox.read() if t["tag"].startswith(f"{family_id}/")]

    def notifications(self, family_id: str, token: str | None = None, **params: str) -> Any:
        return self.world.api.get(
            f"/families/{family_id}/notifications", token or self.token, params=params
        )


@pytest.fixture
def reminders(
    world: World, stack: Emulators, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Reminders]:
    outbox = tmp_path / "outbox" / "sms.jsonl"
    monkeypatch.setenv("SMS_OUTBOX_PATH", str(outbox))
    reset_runtime()
    clock = FrozenClock(a_day_at(12))
    get_runtime().clock = clock
    yield Reminders(world, clock, OutboxSmsSender(outbox))
    reset_runtime()


def test_a_visit_24_hours_away_texts_each_opted_in_member_once(reminders: Reminders) -> None:
    family_id, _ = reminders.family(
        ("Pat Doe", PAT, True),
        ("Lee Doe", LEE, True),
        ("Jo Doe", JO, False),
        ("Kim Doe", None, True),
    )
    reminders.visit(family_id, reminders.clock.now + timedelta(hours=24))

    run_timer()
    run_timer()
    reminders.clock.advance(timedelta(minutes=5))
    run_timer()

    texts = reminders.texts(family_id)
    assert sorted(t["to"] for t in texts) == [PAT, LEE]
    pat = next(t for t in texts if t["to"] == PAT)
    assert pat["text"].startswith("Hi Pat, Family Support here: a reminder that your visit is on")
    assert "Doe" not in pat["text"]


def test_two_runs_at_once_still_send_one_text_per_member(reminders: Reminders) -> None:
    family_id, _ = reminders.family(("Pat Doe", PAT, True), ("Lee Doe", LEE, True))
    reminders.visit(family_id, reminders.clock.now + timedelta(hours=24))
    start = threading.Barrier(4)
    failures: list[BaseException] = []

    def run() -> None:
        start.wait()
        try:
            run_timer()
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert failures == []
    assert sorted(t["to"] for t in reminders.texts(family_id)) == [PAT, LEE]


def test_a_cancelled_visit_gets_no_reminder(reminders: Reminders) -> None:
    family_id, _ = reminders.family(("Pat Doe", PAT, True))
    reminders.visit(family_id, reminders.clock.now + timedelta(hours=24), status="cancelled")
    cancelled_later = reminders.visit(
        family_id, reminders.clock.now + timedelta(hours=24, minutes=1)
    )
    reminders.change_visit(family_id, cancelled_later, {"status": "cancelled"})

    run_timer()

    assert reminders.texts(family_id) == []


def test_a_visit_moved_by_a_day_gets_fresh_reminders_and_a_deleted_one_none(
    reminders: Reminders,
) -> None:
    family_id, _ = reminders.family(("Pat Doe", PAT, True))
    starts_at = reminders.clock.now + timedelta(hours=24)
    visit_id = reminders.visit(family_id, starts_at)
    deleted = reminders.visit(family_id, starts_at + timedelta(minutes=1))
    path = f"/families/{family_id}/visits/{deleted}"
    assert reminders.world.api.delete(path, reminders.token).status == 204
    run_timer()

    moved = starts_at + timedelta(days=1)
    reminders.change_visit(
        family_id,
        visit_id,
        {"startsAt": moved.isoformat(), "endsAt": (moved + timedelta(hours=1)).isoformat()},
    )
    reminders.clock.advance(timedelta(days=1))
    run_timer()

    texts = reminders.texts(family_id)
    assert [t["to"] for t in texts] == [PAT, PAT]
    assert texts[0]["tag"] != texts[1]["tag"]


def test_a_reminder_due_at_ten_at_night_is_deferred_to_eight_in_the_morning(
    reminders: Reminders,
) -> None:
    reminders.clock.set(a_day_at(22).replace(minute=0))
    family_id, _ = reminders.family(("Pat Doe", PAT, True))
    reminders.visit(family_id, reminders.clock.now + timedelta(hours=24))

    run_timer()
    [deferred] = reminders.notifications(family_id).body["items"]
    reminders.clock.set(datetime.fromisoformat(deferred["nextAttemptAt"]))
    run_timer()

    assert deferred["status"] == "deferred"
    assert deferred["reason"] == "quiet-hours"
    next_attempt = datetime.fromisoformat(deferred["nextAttemptAt"])
    assert next_attempt.astimezone(LONDON).strftime("%H:%M") == "08:00"
    assert len(reminders.texts(family_id)) == 1
    [sent] = reminders.notifications(family_id).body["items"]
    assert sent["status"] == "sent"


def test_a_delivery_report_event_marks_the_notification_delivered(reminders: Reminders) -> None:
    family_id, _ = reminders.family(("Pat Doe", PAT, True), ("Lee Doe", LEE, True))
    reminders.visit(family_id, reminders.clock.now + timedelta(hours=24))
    run_timer()
    pat, lee = sorted(reminders.texts(family_id), key=lambda t: t["to"] != PAT)

    reminders.clock.advance(timedelta(seconds=30))
    received = reminders.clock.now
    deliver(delivery_report(pat["messageId"], pat["tag"], received))
    deliver(delivery_report(lee["messageId"], None, received, status="Failed"))
    deliver(delivery_report(pat["messageId"], pat["tag"], received))

    shown = {n["to"]: n for n in reminders.notifications(family_id).body["items"]}
    assert shown[PAT]["status"] == "delivered"
    assert shown[PAT]["deliveryStatus"] == "Delivered"
    assert shown[LEE]["status"] == "undeliverable"


@pytest.mark.parametrize(
    "event",
    [
        func.EventGridEvent(
            id="e-1",
            data={"url": "https://x/blob"},
            topic="t",
            subject="s",
            event_type="Microsoft.Storage.BlobCreated",
            event_time=None,
            data_version="1",
        ),
        func.EventGridEvent(
            id="e-2",
            data={"deliveryStatus": "Delivered"},
            topic="t",
            subject="s",
            event_type=EVENT_TYPE,
            event_time=None,
            data_version="1",
        ),
        func.EventGridEvent(
            id="e-3",
            data={"messageId": "unknown-message", "deliveryStatus": "Delivered", "tag": "a/b"},
            topic="t",
            subject="s",
            event_type=EVENT_TYPE,
            event_time=None,
            data_version="1",
        ),
    ],
    ids=["other-event", "no-message-id", "unknown-message"],
)
def test_events_that_are_not_our_delivery_reports_are_ignored(
    reminders: Reminders, event: func.EventGridEvent
) -> None:
    deliver(event)


def test_a_send_failing_with_5xx_shows_failed_and_is_sent_once_by_the_next_run(
    reminders: Reminders, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    acs = AcsSmsServer(tmp_path / "certs").start()
    try:
        monkeypatch.setenv("SMS_ACS_CONNECTION_STRING", acs.connection_string)
        monkeypatch.setenv("SMS_ACS_CA_CERTIFICATE", str(acs.certificate))
        reset_runtime()
        get_runtime().clock = reminders.clock
        family_id, _ = reminders.family(("Pat Doe", PAT, True))
        reminders.visit(family_id, reminders.clock.now + timedelta(hours=24))
        acs.fail_next(503, times=3)

        run_timer()
        [failed] = reminders.notifications(family_id).body["items"]
        reminders.clock.advance(timedelta(minutes=5))
        run_timer()
        run_timer()
    finally:
        acs.stop()

    assert failed["status"] == "failed"
    assert failed["reason"] == "send-failed"
    [message] = acs.messages
    assert message.to == PAT
    assert message.enable_delivery_report
    [sent] = reminders.notifications(family_id).body["items"]
    assert (sent["status"], sent["attempts"], sent["messageId"]) == (
        "sent",
        2,
        message.message_id,
    )
    assert message.tag == f"{family_id}/{sent['id']}"


def test_notifications_list_newest_first_in_pages_for_staff_only(reminders: Reminders) -> None:
    world = reminders.world
    family_id = world.family
    for hours in (24, 48, 72):
        reminders.visit(family_id, reminders.clock.now + timedelta(hours=hours))
    for _ in range(3):
        run_timer()
        reminders.clock.advance(timedelta(hours=24))

    first = reminders.notifications(family_id, limit="2")
    assert first.status == 200, first.body
    second = reminders.notifications(family_id, next=first.body["next"], limit="2")
    items = first.body["items"] + second.body["items"]
    assert len(items) == 3
    assert second.body["next"] is None
    created = [item["createdAt"] for item in items]
    assert created == sorted(created, reverse=True)
    assert {item["to"] for item in items} == {"+447700900123"}
    assert all("text" not in item and "deleted" not in item for item in items)
    assert reminders.notifications(family_id, next=first.body["next"] + "x").status == 400

    expected = {
        "social_worker": 200,
        "team_manager": 200,
        "head_of_service": 200,
        "other_social_worker": 404,
        "other_team_manager": 404,
        "admin": 404,
        "family_member": 403,
        "other_family_member": 404,
    }
    statuses = {
        role: world.api.get(f"/families/{family_id}/notifications", world.token(role)).status
        for role in expected
    }
    assert statuses == expected
    assert world.api.get(f"/families/{family_id}/notifications").status == 401

    audit = world.api.get(f"/families/{family_id}/audit", world.token("team_manager"))
    assert any(
        event["action"] == "list" and event["recordType"] == "notification"
        for event in audit.body["items"]
    )


def test_an_invitation_texts_its_code_once_to_a_member_with_a_phone(reminders: Reminders) -> None:
    family_id, ids = reminders.family(("Pat Doe", PAT, False), ("Kim Doe", None, False))
    api = reminders.world.api

    invited = api.post(
        f"/families/{family_id}/invitations", reminders.token, {"memberId": ids["Pat Doe"]}
    )
    no_phone = api.post(
        f"/families/{family_id}/invitations", reminders.token, {"memberId": ids["Kim Doe"]}
    )

    assert (invited.status, no_phone.status) == (201, 201)
    [text] = reminders.outbox.read()
    code = invited.body["code"]
    assert text["to"] == PAT
    assert f"{code[:5]}-{code[5:]}" in text["text"]
    assert text["text"].startswith("Hi Pat, Family Support here: your code to sign in is")
    assert "Doe" not in text["text"]
    texted = re.search(r"is ([A-Z0-9]{5}-[A-Z0-9]{5})\.", text["text"])
    assert texted is not None
    pat = family_token(oid=str(uuid.uuid4()), phone_number=PAT, phone_number_verified=True)
    redeemed = api.post("/invitations/redeem", pat, {"code": texted.group(1)})
    assert redeemed.status == 200, redeemed.body
    assert redeemed.body["memberId"] == ids["Pat Doe"]


def test_delivery_reports_delivered_by_event_grid_at_least_once_are_applied_once(
    reminders: Reminders, app_functions: list[Any]
) -> None:
    """Through the local Event Grid, with the system key, every event delivered twice."""
    family_id, _ = reminders.family(("Pat Doe", PAT, True))
    reminders.visit(family_id, reminders.clock.now + timedelta(hours=24))
    run_timer()
    [text] = reminders.texts(family_id)
    reminders.clock.advance(timedelta(seconds=30))
    report = delivery_report(text["messageId"], text["tag"], reminders.clock.now)
    event = {
        "id": report.id,
        "topic": report.topic,
        "subject": report.subject,
        "eventType": report.event_type,
        "eventTime": datetime.now(UTC).isoformat(),
        "dataVersion": "1.0",
        "data": report.get_json(),
    }
    _, webhook = build_asgi(app_functions, {"eventgrid_extension": "k"})
    grid = EventGrid(webhook, {}, DeliveryRules(time_scale=0.05, duplicate_share=1.0))
    before = reminders.notifications(family_id).body["items"][0]

    async def publish() -> None:
        grid.publish(SMS_DELIVERY_REPORTS, event)
        await grid.drain()

    asyncio.run(publish())

    [outcome] = grid.outcomes
    assert outcome.statuses == [202]
    assert outcome.duplicated
    [shown] = reminders.notifications(family_id).body["items"]
    assert shown["status"] == "delivered"
    assert shown["id"] == before["id"]


def test_reminders_and_invitation_codes_go_in_the_members_language(reminders: Reminders) -> None:
    family_id, ids = reminders.family(("Ola Nowak", PAT, True), ("Ana Pop", LEE, True))
    api = reminders.world.api
    for name, language in (("Ola Nowak", "pl-PL"), ("Ana Pop", "so")):
        changed = api.patch(
            f"/families/{family_id}/members/{ids[name]}",
            reminders.token,
            {"preferredLanguage": language},
        )
        assert changed.status == 200, changed.body
    reminders.visit(family_id, reminders.clock.now + timedelta(hours=24))

    run_timer()
    api.post(f"/families/{family_id}/invitations", reminders.token, {"memberId": ids["Ola Nowak"]})

    texts = {t["to"]: t["text"] for t in reminders.texts(family_id)}
    assert texts[PAT].startswith("Ola, Family Support przypomina o wizycie:")
    assert texts[LEE].startswith("Hi Ana, Family Support here: a reminder")
    [invitation] = [t for t in reminders.outbox.read() if t["tag"] == "invitation"]
    assert "Twój kod logowania to" in invitation["text"]
