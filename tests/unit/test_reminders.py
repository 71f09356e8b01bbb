"""The reminder run with a frozen clock, in-memory visits, members and claims, and a fake sender."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.reminders.delivery import record_delivery_report
from shared.reminders.ids import claim_tag, reminder_claim_id
from shared.reminders.memory import FrozenClock, InMemoryClaimStore, InMemoryFamilies
from shared.reminders.models import Claim, Member, Visit
from shared.reminders.ports import ClaimStore
from shared.reminders.service import ReminderConfig, ReminderService, RunReport
from shared.sms.memory import MemorySmsSender
from shared.sms.port import (
    SendResult,
    SmsOutcomeUnknownError,
    SmsPermanentError,
    SmsSender,
    SmsTransientError,
)
from shared.sms.templates import SmsTemplates
from tests.claims import MeetingPoint, reminder_claim

LONDON = ZoneInfo("Europe/London")
FAMILY = "fam-1"
NEVER = datetime.max.replace(tzinfo=UTC)
SAM, ALEX, JO, KIM = "+447911123456", "+447911123457", "+447911123458", "+447911123459"


def london(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


@dataclass
class World:
    clock: FrozenClock
    families: InMemoryFamilies = field(default_factory=InMemoryFamilies)
    claims: ClaimStore = field(default_factory=InMemoryClaimStore)
    sender: MemorySmsSender = field(default_factory=MemorySmsSender)
    config: ReminderConfig = field(default_factory=ReminderConfig)

    def service(self, sender: SmsSender | None = None) -> ReminderService:
        return ReminderService(
            visits=self.families,
            members=self.families,
            claims=self.claims,
            sender=sender or self.sender,
            templates=SmsTemplates("Family Support"),
            config=self.config,
            clock=self.clock,
        )

    def run(self) -> RunReport:
        return self.service().run()

    def visit(self, starts_at: datetime, status: str = "scheduled", id: str = "visit-1") -> Visit:
        visit = Visit.model_validate(
            {"id": id, "familyId": FAMILY, "startsAt": starts_at, "status": status}
        )
        return self.families.put_visit(visit)

    def member(
        self, id: str, name: str, phone: str | None, opted_in: bool = True, family: str = FAMILY
    ) -> Member:
        member = Member(
            id=id, family_id=family, display_name=name, phone=phone, sms_reminders=opted_in
        )
        return self.families.put_member(member)

    def texts_to(self, phone: str) -> list[str]:
        return [sms.text for sms in self.sender.sent if sms.to == phone]

    def claims_of(self, visit: Visit) -> list[Claim]:
        return self.claims.for_visits([visit])

    def run_every(self, period: timedelta, until: datetime) -> None:
        while self.clock.now < until:
            self.run()
            self.clock.advance(period)


@pytest.fixture
def world() -> World:
    world = World(clock=FrozenClock(london(2026, 11, 26, 14, 0)))
    world.member("m-sam", "Sam Patel", SAM)
    world.member("m-alex", "Alex", ALEX)
    return world


def test_a_visit_24_hours_away_gets_one_text_per_opted_in_member(world: World) -> None:
    world.member("m-jo", "Jo", JO, opted_in=False)
    world.member("m-kim", "Kim", None)
    world.member("m-other", "Other", KIM, family="fam-2")
    visit = world.visit(london(2026, 11, 27, 14, 0))

    report = world.run()

    assert report.sent == 2
    assert sorted(sms.to for sms in world.sender.sent) == [SAM, ALEX]
    assert world.texts_to(SAM) == [
        "Hi Sam, Family Support here: a reminder that your visit is on Friday 27 November "
        "at 2pm. Please do not reply to this text."
    ]
    claims = world.claims_of(visit)
    assert {c.status for c in claims} == {"sent"}
    assert {c.window_minutes for c in claims} == {24 * 60}
    tags = {sms.tag for sms in world.sender.sent}
    assert tags == {claim_tag(FAMILY, c.id) for c in claims}
    assert {c.message_id for c in claims} == {sms.message_id for sms in world.sender.sent}


def test_a_member_who_opted_out_gets_nothing(world: World) -> None:
    world.member("m-jo", "Jo", JO, opted_in=False)
    visit = world.visit(london(2026, 11, 27, 14, 0))

    world.run_every(timedelta(minutes=5), visit.starts_at)

    assert world.texts_to(JO) == []
    assert all(claim.member_id != "m-jo" for claim in world.claims_of(visit))
    assert len(world.texts_to(SAM)) == 2


def test_running_twice_sends_once(world: World) -> None:
    world.visit(london(2026, 11, 27, 14, 0))

    first, second = world.run(), world.run()

    assert (first.sent, second.sent) == (2, 0)
    assert len(world.sender.sent) == 2


def run_concurrently(world: World, runs: int = 2) -> list[RunReport]:
    meeting = MeetingPoint(world.claims, runs, timeout=10)
    reports: list[RunReport] = []
    errors: list[BaseException] = []

    def run() -> None:
        service = ReminderService(
            visits=world.families,
            members=world.families,
            claims=meeting,
            sender=world.sender,
            templates=SmsTemplates("Family Support"),
            config=world.config,
            clock=world.clock,
        )
        try:
            reports.append(service.run())
        except BaseException as error:
            errors.append(error)
            raise

    threads = [threading.Thread(target=run) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    return reports


def test_two_concurrent_runs_send_once(world: World) -> None:
    world.visit(london(2026, 11, 27, 14, 0))

    reports = run_concurrently(world)

    assert len(world.sender.sent) == 2
    assert sum(r.sent for r in reports) == 2
    assert sum(r.already_claimed for r in reports) == 2


def test_concurrent_runs_take_over_a_deferred_reminder_once(world: World) -> None:
    world.clock.set(london(2026, 11, 26, 22, 0))
    world.visit(london(2026, 11, 27, 22, 0))
    world.run()
    world.clock.set(london(2026, 11, 27, 8, 0))

    reports = run_concurrently(world, runs=3)

    assert len(world.sender.sent) == 2
    assert sum(r.sent for r in reports) == 2
    assert sum(r.already_claimed for r in reports) == 4


def test_a_visit_moved_by_a_day_gets_fresh_reminders(world: World) -> None:
    visit = world.visit(london(2026, 11, 27, 14, 0))
    world.run()
    moved = world.visit(visit.starts_at + timedelta(days=1))

    world.clock.set(london(2026, 11, 27, 14, 0))
    world.run()
    world.run()

    assert len(world.texts_to(SAM)) == 2
    assert "Friday 27 November" in world.texts_to(SAM)[0]
    assert "Saturday 28 November" in world.texts_to(SAM)[1]
    starts = sorted({c.visit_starts_at for c in world.claims_of(moved)})
    assert starts == [visit.starts_at, moved.starts_at]


def test_a_moved_visit_drops_its_deferred_reminder(world: World) -> None:
    world.clock.set(london(2026, 11, 26, 22, 0))
    visit = world.visit(london(2026, 11, 27, 22, 0))
    world.run()
    world.visit(visit.starts_at + timedelta(days=2))

    world.clock.set(london(2026, 11, 27, 8, 0))
    world.run()

    assert world.sender.sent == []
    assert {(c.status, c.reason) for c in world.claims_of(visit)} == {("skipped", "visit-moved")}


def test_a_cancelled_visit_gets_no_reminders(world: World) -> None:
    visit = world.visit(london(2026, 11, 27, 14, 0), status="cancelled")

    world.run_every(timedelta(minutes=30), visit.starts_at)

    assert world.sender.sent == []
    assert world.claims_of(visit) == []


def test_a_visit_cancelled_after_its_reminder_gets_one_cancellation_text(world: World) -> None:
    visit = world.visit(london(2026, 11, 27, 14, 0))
    world.run()
    world.visit(visit.starts_at, status="cancelled")

    world.clock.advance(timedelta(hours=1))
    first, second = world.run(), world.run()
    world.run_every(timedelta(minutes=30), visit.starts_at)

    assert (first.sent, second.sent) == (2, 0)
    assert world.texts_to(SAM)[1] == (
        "Hi Sam, Family Support here: your visit on Friday 27 November at 2pm has been "
        "cancelled. Please do not reply to this text."
    )
    assert len(world.texts_to(SAM)) == 2
    assert len(world.texts_to(ALEX)) == 2
    kinds = sorted(c.kind for c in world.claims_of(visit))
    assert kinds == ["cancellation", "cancellation", "reminder", "reminder"]


def test_cancellation_drops_a_deferred_reminder_and_sends_no_notice(world: World) -> None:
    world.clock.set(london(2026, 11, 26, 22, 0))
    visit = world.visit(london(2026, 11, 27, 22, 0))
    world.run()
    world.visit(visit.starts_at, status="cancelled")

    world.clock.set(london(2026, 11, 27, 8, 0))
    world.run()

    assert world.sender.sent == []
    reasons = {(c.status, c.reason) for c in world.claims_of(visit)}
    assert reasons == {("skipped", "visit-cancelled")}


def test_a_reminder_due_at_22_london_time_is_deferred_to_08(world: World) -> None:
    world.clock.set(london(2026, 11, 26, 22, 0))
    visit = world.visit(london(2026, 11, 27, 22, 0))

    report = world.run()
    deferred = world.claims_of(visit)
    world.run_every(timedelta(minutes=5), london(2026, 11, 27, 8, 0))
    assert world.sender.sent == []
    world.run()
    world.run()

    assert report.deferred == 2
    assert {(c.status, c.next_attempt_at) for c in deferred} == {
        ("deferred", london(2026, 11, 27, 8, 0))
    }
    assert len(world.texts_to(SAM)) == 1
    assert len(world.sender.sent) == 2
    assert {c.status for c in world.claims_of(visit)} == {"sent"}


def test_a_reminder_whose_quiet_hours_outlast_the_visit_is_skipped(world: World) -> None:
    world.clock.set(london(2026, 11, 27, 5, 0))
    visit = world.visit(london(2026, 11, 27, 7, 0))

    report = world.run()
    world.run_every(timedelta(minutes=5), visit.starts_at)

    assert report.skipped == 2
    assert world.sender.sent == []
    assert {(c.status, c.reason) for c in world.claims_of(visit)} == {("skipped", "quiet-hours")}


def test_a_visit_at_0130_on_the_day_the_clocks_go_back(world: World) -> None:
    visit = world.visit(london(2026, 10, 25, 1, 30))
    assert visit.starts_at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    world.clock.set(london(2026, 10, 23, 12, 0))

    world.run_every(timedelta(minutes=5), visit.starts_at + timedelta(hours=1))

    [text] = world.texts_to(SAM)
    assert "Sunday 25 October at 1:30am BST" in text
    [sent] = [c for c in world.claims_of(visit) if c.member_id == "m-sam" and c.status == "sent"]
    assert sent.window_minutes == 24 * 60
    assert sent.sent_at == london(2026, 10, 24, 8, 0)
    [skipped] = [
        c for c in world.claims_of(visit) if c.member_id == "m-sam" and c.window_minutes == 120
    ]
    assert (skipped.status, skipped.reason) == ("skipped", "quiet-hours")


def test_the_second_0130_on_the_day_the_clocks_go_back_is_told_apart(world: World) -> None:
    visit = world.visit(datetime(2026, 10, 25, 1, 30, tzinfo=UTC))
    world.config = ReminderConfig(quiet_hours=ReminderConfig().quiet_hours.parse(""))
    world.clock.set(visit.starts_at - timedelta(hours=24))

    world.run()

    assert "Sunday 25 October at 1:30am GMT" in world.texts_to(SAM)[0]


def test_reminders_keep_elapsed_time_across_the_clock_change(world: World) -> None:
    visit = world.visit(london(2026, 10, 25, 10, 0))
    world.clock.set(london(2026, 10, 24, 9, 0))

    world.run_every(timedelta(minutes=5), visit.starts_at)

    sent = sorted(c.sent_at or NEVER for c in world.claims_of(visit) if c.member_id == "m-sam")
    assert sent == [london(2026, 10, 24, 11, 0), london(2026, 10, 25, 8, 0)]
    assert all("Sunday 25 October at 10am." in text for text in world.texts_to(SAM))


def test_a_visit_booked_at_short_notice_gets_one_reminder_not_two_close_together(
    world: World,
) -> None:
    world.clock.set(london(2026, 11, 26, 11, 50))
    visit = world.visit(london(2026, 11, 26, 14, 0))

    world.run_every(timedelta(minutes=5), visit.starts_at)

    assert len(world.texts_to(SAM)) == 1
    [claim] = [c for c in world.claims_of(visit) if c.member_id == "m-sam"]
    assert claim.window_minutes == 120


def test_a_week_of_runs_sends_the_24h_and_2h_reminders_once_each(world: World) -> None:
    visit = world.visit(london(2026, 11, 27, 14, 0))
    world.clock.set(london(2026, 11, 25, 9, 0))

    world.run_every(timedelta(minutes=5), london(2026, 11, 28, 9, 0))

    claims = [c for c in world.claims_of(visit) if c.member_id == "m-sam"]
    assert sorted((c.window_minutes, c.sent_at) for c in claims) == [
        (120, london(2026, 11, 27, 12, 0)),
        (1440, london(2026, 11, 26, 14, 0)),
    ]
    assert len(world.sender.sent) == 4


def test_a_5xx_send_is_retried_next_run_and_sends_once_in_total(world: World) -> None:
    world.member("m-alex", "Alex", ALEX, opted_in=False)
    visit = world.visit(london(2026, 11, 27, 14, 0))
    world.sender.fail_next(SmsTransientError("ACS answered 503"))

    first = world.run()
    [failed] = world.claims_of(visit)
    world.clock.advance(timedelta(minutes=5))
    second = world.run()
    world.run_every(timedelta(minutes=5), visit.starts_at - timedelta(hours=3))

    assert (first.failed, second.sent) == (1, 1)
    assert (failed.status, failed.attempts, failed.error) == ("failed", 1, "ACS answered 503")
    assert len(world.texts_to(SAM)) == 1
    assert world.sender.attempts == 2
    [sent] = world.claims_of(visit)
    assert (sent.status, sent.attempts, sent.error) == ("sent", 2, None)


def test_transient_failures_stop_after_the_attempts_allowed(world: World) -> None:
    world.member("m-alex", "Alex", ALEX, opted_in=False)
    visit = world.visit(london(2026, 11, 27, 14, 0))
    world.sender.fail_next(SmsTransientError("ACS answered 503"), times=10)

    world.run_every(timedelta(minutes=5), london(2026, 11, 26, 16, 0))

    assert world.sender.attempts == 3
    [claim] = world.claims_of(visit)
    assert (claim.status, claim.reason, claim.next_attempt_at) == (
        "failed",
        "attempts-exhausted",
        None,
    )


def test_a_refused_text_is_not_retried(world: World) -> None:
    world.member("m-alex", "Alex", ALEX, opted_in=False)
    visit = world.visit(london(2026, 11, 27, 14, 0))
    world.sender.fail_next(SmsPermanentError("ACS recipient answered 400"))

    world.run_every(timedelta(minutes=5), london(2026, 11, 26, 16, 0))

    assert world.sender.attempts == 1
    [claim] = world.claims_of(visit)
    assert (claim.status, claim.reason) == ("failed", "rejected")


def test_an_unknown_outcome_is_never_sent_again_but_still_earns_a_cancellation(
    world: World,
) -> None:
    world.member("m-alex", "Alex", ALEX, opted_in=False)
    visit = world.visit(london(2026, 11, 27, 14, 0))
    world.sender.fail_next(SmsOutcomeUnknownError("no answer from ACS"))

    world.run_every(timedelta(minutes=5), london(2026, 11, 26, 16, 0))
    world.visit(visit.starts_at, status="cancelled")
    world.run()

    assert world.sender.attempts == 2
    assert [("cancelled" in text) for text in world.texts_to(SAM)] == [True]


def test_a_claim_stuck_sending_after_a_crash_is_marked_unknown_not_resent(world: World) -> None:
    world.member("m-alex", "Alex", ALEX, opted_in=False)
    visit = world.visit(london(2026, 11, 27, 14, 0))
    claim_id = reminder_claim_id(visit.id, timedelta(hours=24), "m-sam", visit.starts_at)
    crashed_at = world.clock.now
    world.claims.create(
        reminder_claim(
            FAMILY,
            crashed_at,
            id=claim_id,
            visit_id=visit.id,
            member_id="m-sam",
            visit_starts_at=visit.starts_at,
            status="sending",
            to=SAM,
        )
    )

    world.clock.advance(timedelta(minutes=10))
    world.run()
    assert world.claims.get(FAMILY, claim_id).status == "sending"  # type: ignore[union-attr]
    world.clock.advance(timedelta(minutes=10))
    report = world.run()
    world.run_every(timedelta(minutes=5), london(2026, 11, 26, 16, 0))

    assert world.sender.sent == []
    assert report.outcome_unknown == 1
    stuck = world.claims.get(FAMILY, claim_id)
    assert stuck is not None
    assert (stuck.status, stuck.reason, stuck.next_attempt_at) == (
        "failed",
        "outcome-unknown",
        None,
    )


def test_a_member_who_opts_out_before_a_deferred_reminder_goes_gets_nothing(
    world: World,
) -> None:
    world.clock.set(london(2026, 11, 26, 22, 0))
    visit = world.visit(london(2026, 11, 27, 22, 0))
    world.run()
    world.member("m-sam", "Sam Patel", SAM, opted_in=False)

    world.clock.set(london(2026, 11, 27, 8, 0))
    world.run()

    assert world.texts_to(SAM) == []
    assert len(world.texts_to(ALEX)) == 1
    sam = [c for c in world.claims_of(visit) if c.member_id == "m-sam"]
    assert [(c.status, c.reason) for c in sam] == [("skipped", "opted-out")]


class ReportsBeforeReturning:
    """A gateway whose delivery report is recorded before ``send`` returns."""

    def __init__(self, world: World) -> None:
        self._world = world

    def send(self, to_e164: str, text: str, tag: str) -> SendResult:
        result = self._world.sender.send(to_e164, text, tag)
        event = {
            "eventType": "Microsoft.Communication.SMSDeliveryReportReceived",
            "data": {
                "messageId": result.message_id,
                "deliveryStatus": "Delivered",
                "receivedTimestamp": self._world.clock.now.isoformat(),
                "tag": tag,
            },
        }
        record_delivery_report(self._world.claims, event, self._world.clock)
        return result


def test_a_delivery_report_that_beats_the_sender_is_kept(world: World) -> None:
    visit = world.visit(london(2026, 11, 27, 14, 0))

    report = world.service(ReportsBeforeReturning(world)).run()

    assert report.sent == 2
    for claim in world.claims_of(visit):
        assert claim.status == "delivered"
        assert claim.message_id in {sms.message_id for sms in world.sender.sent}
        assert claim.sent_at == world.clock.now
