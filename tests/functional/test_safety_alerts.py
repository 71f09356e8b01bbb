"""Safety alerts end to end on the emulators: raised through the API (REST and sync push), texts
sent by the real ``azure-communication-sms`` client to the local ACS server (which checks every
signature), the follow-up timer called as the host calls it, at a frozen clock.

Every test has its own family, staff and phones; assertions look at its own texts only.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest

from functions import notifications, safety
from local.emulators import Emulators
from shared.bootstrap import get_runtime, reset_runtime
from shared.reminders.delivery import EVENT_TYPE
from shared.reminders.memory import FrozenClock
from tests.acs_server import AcsSmsServer
from tests.functional.world import World, link_family_member
from tests.tokens import staff_token

LATE_EVENING = datetime(2031, 3, 4, 22, 40, tzinfo=UTC)  # inside reminders' quiet hours
ACK_MINUTES = 15


def run_timer() -> None:
    function = safety.safety_alerts_follow_up.build().get_user_function()
    function(func.timer.TimerRequest(past_due=False))


def drama_phone() -> str:
    return f"+447700900{uuid.uuid4().int % 1000:03d}"


@dataclass
class Case:
    """A family with an allocated worker and a team manager who have phones, and a signed-in
    child."""

    world: World
    acs: AcsSmsServer
    clock: FrozenClock
    family: str
    child: str
    worker: str
    manager: str
    worker_phone: str
    manager_phone: str
    duty_phone: str

    def raise_alert(self, body: dict[str, Any] | None = None) -> Any:
        return self.world.api.post(f"/families/{self.family}/safety-alerts", self.child, body or {})

    def texts_to(self, phone: str, family: str | None = None) -> list[str]:
        """Texts to ``phone`` about this case's family (the follow-up run also escalates the
        alerts other tests left unacknowledged, to whatever duty phone is set)."""
        mine = f"{family or self.family}/"
        return [
            m.message for m in self.acs.messages if m.to == phone and (m.tag or "").startswith(mine)
        ]

    def later(self, minutes: float) -> None:
        self.clock.advance(timedelta(minutes=minutes))
        run_timer()


def staff_member(world: World, role: str, team: str, phone: str | None) -> str:
    """An entry in the staff directory (by Admin, as in Azure), and one request by its owner
    so the directory knows their role."""
    oid = str(uuid.uuid4())
    body: dict[str, Any] = {"displayName": f"{role} {oid[:4]}", "teamIds": [team]}
    if phone:
        body["phone"] = phone
    admin = world.people["admin"].token
    assert world.api.put(f"/staff/{oid}", admin, body).status in (200, 201)
    token = staff_token(role, oid=oid)
    assert world.api.get("/me", token).status == 200
    return token


@pytest.fixture
def acs(tmp_path: Path) -> Iterator[AcsSmsServer]:
    server = AcsSmsServer(tmp_path / "certs").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def case(
    world: World, stack: Emulators, acs: AcsSmsServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Case]:
    duty = drama_phone()
    monkeypatch.setenv("SMS_ACS_CONNECTION_STRING", acs.connection_string)
    monkeypatch.setenv("SMS_ACS_CA_CERTIFICATE", str(acs.certificate))
    monkeypatch.setenv("SAFETY_DUTY_PHONE", duty)
    monkeypatch.setenv("SAFETY_ACK_MINUTES", str(ACK_MINUTES))
    reset_runtime()
    clock = FrozenClock(LATE_EVENING + timedelta(days=uuid.uuid4().int % 900))
    get_runtime().clock = clock
    team = f"team-{uuid.uuid4().hex[:8]}"
    worker_phone, manager_phone = drama_phone(), drama_phone()
    worker = staff_member(world, "SocialWorker", team, worker_phone)
    manager = staff_member(world, "TeamManager", team, manager_phone)
    made = world.api.post("/families", worker, {"displayName": "Doe", "teamId": team})
    assert made.status == 201, made.body
    family = str(made.body["id"])
    member = world.api.post(
        f"/families/{family}/members", worker, {"displayName": "Ash Doe", "relationship": "son"}
    )
    child = link_family_member(family, str(member.body["id"]), drama_phone()).token
    yield Case(world, acs, clock, family, child, worker, manager, worker_phone, manager_phone, duty)
    reset_runtime()


def test_an_alert_texts_the_worker_and_manager_at_once_in_quiet_hours(case: Case) -> None:
    answer = case.raise_alert({"message": "I am scared of my dad Sam Doe"})

    assert answer.status == 201, answer.body
    location = f"/api/v1/families/{case.family}/safety-alerts/{answer.body['id']}"
    assert answer.header("Location") == location
    assert "999" in answer.body["advice"]
    assert answer.body["status"] == "raised"
    [to_worker] = case.texts_to(case.worker_phone)
    [to_manager] = case.texts_to(case.manager_phone)
    assert to_worker == to_manager
    assert "asked for help" in to_worker
    for private in ("Sam", "Doe", "scared", case.family):
        assert private not in to_worker
    assert case.texts_to(case.duty_phone) == []


def test_duplicate_deliveries_and_a_racing_timer_text_each_person_once(case: Case) -> None:
    alert_id = str(uuid.uuid4())
    body = {"id": alert_id, "message": "help"}
    start = threading.Barrier(5)
    statuses: list[int] = []

    def deliver() -> None:
        start.wait()
        statuses.append(case.raise_alert(body).status)

    def push() -> None:
        operation = {
            "opId": f"device-1:{alert_id}",
            "type": "safetyAlert",
            "action": "create",
            "id": alert_id,
            "familyId": case.family,
            "data": {"message": "help"},
        }
        start.wait()
        pushed = case.world.api.post("/sync", case.child, {"operations": [operation]})
        statuses.append(pushed.status)

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    threads.append(threading.Thread(target=push))
    for thread in threads:
        thread.start()
    start.wait()
    run_timer()
    for thread in threads:
        thread.join(60)

    assert len(statuses) == 4
    assert set(statuses) <= {200, 201}
    assert statuses.count(201) <= 1
    assert len(case.texts_to(case.worker_phone)) == 1
    assert len(case.texts_to(case.manager_phone)) == 1
    listed = case.world.api.get(f"/families/{case.family}/safety-alerts", case.worker)
    assert [a["id"] for a in listed.body["items"]] == [alert_id]


def test_no_acknowledgement_escalates_to_the_duty_team_exactly_once(case: Case) -> None:
    alert = case.raise_alert().body

    case.later(ACK_MINUTES - 1)
    assert case.texts_to(case.duty_phone) == []
    case.clock.advance(timedelta(minutes=1))
    runs = [threading.Thread(target=run_timer) for _ in range(3)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(60)
    case.later(1)
    case.later(30)

    [escalation] = case.texts_to(case.duty_phone)
    assert alert["reference"] in escalation
    shown = case.world.api.get(f"/families/{case.family}/safety-alerts/{alert['id']}", case.worker)
    assert [t["recipient"]["kind"] for t in shown.body["texts"]].count("duty") == 1


def test_an_acknowledged_alert_is_not_escalated_and_the_child_sees_when(case: Case) -> None:
    alert = case.raise_alert().body
    case.later(3)

    first = case.world.api.post(
        f"/families/{case.family}/safety-alerts/{alert['id']}/acknowledge", case.worker
    )
    again = case.world.api.post(
        f"/families/{case.family}/safety-alerts/{alert['id']}/acknowledge", case.manager
    )
    by_child = case.world.api.post(
        f"/families/{case.family}/safety-alerts/{alert['id']}/acknowledge", case.child
    )
    case.later(30)

    assert first.status == again.status == 200
    assert again.body["acknowledgedBy"] == first.body["acknowledgedBy"]
    assert by_child.status == 403
    assert case.texts_to(case.duty_phone) == []
    [seen] = case.world.api.get(f"/families/{case.family}/safety-alerts", case.child).body["items"]
    assert seen["status"] == "acknowledged"
    assert seen["acknowledgedAt"] == first.body["acknowledgedAt"]
    assert case.worker_phone not in str(seen)


def test_with_no_staff_phone_the_duty_team_is_texted_at_once(case: Case, world: World) -> None:
    team = f"team-{uuid.uuid4().hex[:8]}"
    worker = staff_member(world, "SocialWorker", team, None)
    family = world.api.post("/families", worker, {"displayName": "Roe", "teamId": team}).body
    member = world.api.post(
        f"/families/{family['id']}/members", worker, {"displayName": "Jo", "relationship": "son"}
    ).body
    child = link_family_member(family["id"], member["id"], drama_phone()).token

    answer = world.api.post(f"/families/{family['id']}/safety-alerts", child, {})

    assert answer.status == 201
    assert len(case.texts_to(case.duty_phone, family["id"])) == 1


def test_an_sms_outage_is_retried_never_duplicated_and_the_duty_escalation_still_goes(
    case: Case,
) -> None:
    case.acs.fail_next(503, times=10_000)
    alert = case.raise_alert().body
    case.later(1)
    assert case.texts_to(case.worker_phone) == []

    for _ in range(ACK_MINUTES - 1):
        case.clock.advance(timedelta(minutes=1))
    run_timer()  # the escalation is due; ACS is still down
    assert case.texts_to(case.duty_phone) == []
    with case.acs.state.lock:
        case.acs.state.failures.clear()
    case.later(1)
    case.later(1)
    case.later(5)

    assert len(case.texts_to(case.worker_phone)) == 1
    assert len(case.texts_to(case.manager_phone)) == 1
    assert len(case.texts_to(case.duty_phone)) == 1
    shown = case.world.api.get(f"/families/{case.family}/safety-alerts/{alert['id']}", case.worker)
    assert all(t["status"] == "sent" for t in shown.body["texts"])
    assert all(t["attempts"] >= 2 for t in shown.body["texts"])


def test_staff_numbers_the_provider_refuses_escalate_at_once(case: Case) -> None:
    case.acs.reject(case.worker_phone)
    case.acs.reject(case.manager_phone)

    case.raise_alert()

    assert len(case.texts_to(case.duty_phone)) == 1


def test_a_text_whose_answer_was_lost_is_never_sent_again(case: Case) -> None:
    case.acs.drop_next()

    case.raise_alert()
    case.later(1)
    case.later(20)

    assert len(case.texts_to(case.worker_phone)) == 1
    assert len(case.texts_to(case.manager_phone)) == 1


def test_a_delivery_report_marks_the_staff_text_delivered(case: Case) -> None:
    alert = case.raise_alert().body
    [message] = [m for m in case.acs.messages if m.to == case.worker_phone]
    event = func.EventGridEvent(
        id=str(uuid.uuid4()),
        data={
            "messageId": message.message_id,
            "from": "FamilyStory",
            "to": case.worker_phone,
            "deliveryStatus": "Delivered",
            "deliveryStatusDetails": "No error.",
            "receivedTimestamp": case.clock.now.isoformat(),
            "tag": message.tag,
        },
        topic="/subscriptions/s/resourceGroups/g/providers/Microsoft.Communication/acs",
        subject="/phonenumber/447700900000",
        event_type=EVENT_TYPE,
        event_time=datetime.now(UTC),
        data_version="1.0",
    )

    notifications.reminders_delivery_report.build().get_user_function()(event)

    shown = case.world.api.get(f"/families/{case.family}/safety-alerts/{alert['id']}", case.worker)
    statuses = {t["recipient"]["kind"]: t["status"] for t in shown.body["texts"]}
    assert statuses == {"worker": "delivered", "manager": "sent"}
