"""The reminder run: claim each text, then send it, then record what happened.

One run, at ``now``:

1. reads the visits starting within the longest window (plus half a timer period), of every
   status, and in one query every claim about them (``ReminderConfig.horizon``);
2. for a scheduled visit, works out the current window (``timing.current_window``) and, for
   each member who opted in and has a phone number, the claim id of that reminder;
3. for a cancelled visit, a cancellation notice for each member whom a reminder may have
   reached, and no more reminders;
4. settles the claims still waiting for a visit no longer in that range (moved, started,
   deleted): one query for overdue claims, so nothing waits for ever.

Each text of steps 2 and 3 is claimed before it is sent: a missing claim is created (a
conditional create: a run that loses the race gets ``ClaimExistsError`` and leaves the text to
the winner); a deferred or retryable claim whose time has come is taken over with an
``If-Match`` replace (the loser of that race gets ``ClaimChangedError``). Only the run that
moved the claim to ``sending`` sends, and then records ``sent`` or ``failed``.

Reads per run: the visits in range, one claims query, the members of each family with a visit
in range, and the overdue claims. Writes only for texts that are due.

A text in quiet hours is deferred to their end if that is before the visit, else skipped.
A transient failure is retried by the next run, up to ``max_attempts`` sends in all.

A claim found ``sending`` for longer than ``stuck_after`` belongs to a run that crashed or lost
its connection between claiming and recording. Nobody knows whether its text went, and texting
a family twice is the harm to avoid, so it is never sent again: it is recorded as ``failed``
with reason ``outcome-unknown`` for staff to see. If the text did go, its delivery report
(matched by tag) still moves it to ``delivered``. A cancelled visit counts such a claim as a
reminder that may have been received, so the member still gets the cancellation notice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from shared.reminders.ids import cancellation_claim_id, claim_tag, reminder_claim_id
from shared.reminders.models import (
    REASON_ATTEMPTS_EXHAUSTED,
    REASON_OPTED_OUT,
    REASON_OUTCOME_UNKNOWN,
    REASON_QUIET_HOURS,
    REASON_REJECTED,
    REASON_SUPERSEDED,
    REASON_TOO_LATE,
    REASON_TRANSIENT,
    REASON_VISIT_CANCELLED,
    REASON_VISIT_MOVED,
    REASON_VISIT_NOT_SCHEDULED,
    Claim,
    ClaimKind,
    ClaimStatus,
    Member,
    Visit,
)
from shared.reminders.ports import (
    ClaimChangedError,
    ClaimExistsError,
    ClaimStore,
    Clock,
    MemberSource,
    VisitSource,
)
from shared.reminders.timing import QuietHours, current_window, parse_duration, timer_period
from shared.sms.port import SmsOutcomeUnknownError, SmsPermanentError, SmsSender, SmsTransientError
from shared.sms.templates import SmsTemplates

logger = logging.getLogger(__name__)

RECORD_TRIES = 3
STATUS_ON_CREATE: dict[str, ClaimStatus] = {
    "send": "sending",
    "defer": "deferred",
    "skip": "skipped",
}


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ReminderConfig:
    windows: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=2))
    quiet_hours: QuietHours = field(default_factory=QuietHours)
    timer_period: timedelta = timedelta(minutes=5)
    max_attempts: int = 3
    min_spacing: timedelta = timedelta(hours=1)
    stuck_after: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        if not self.windows or any(w <= timedelta(0) for w in self.windows):
            raise ValueError("Reminder windows must be positive durations.")
        if len(set(self.windows)) != len(self.windows):
            raise ValueError("Reminder windows must differ.")
        if self.timer_period <= timedelta(0) or self.max_attempts < 1:
            raise ValueError("The timer period and the attempts allowed must be positive.")

    @classmethod
    def parse(
        cls,
        *,
        windows: str = "24h,2h",
        quiet_hours: str = "20:00-08:00",
        schedule: str = "0 */5 * * * *",
        max_attempts: int = 3,
    ) -> ReminderConfig:
        """From app settings: ``"24h,2h"``, ``"20:00-08:00"`` (empty: none), an NCRONTAB."""
        return cls(
            windows=tuple(parse_duration(part) for part in windows.split(",") if part.strip()),
            quiet_hours=QuietHours.parse(quiet_hours),
            timer_period=timer_period(schedule),
            max_attempts=max_attempts,
        )

    def horizon(self, now: datetime) -> tuple[datetime, datetime]:
        """Visits starting in ``(start, end]`` are the ones a run at ``now`` looks at."""
        return now, now + max(self.windows) + self.timer_period / 2


@dataclass
class RunReport:
    visits: int = 0
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    skipped: int = 0
    already_claimed: int = 0
    outcome_unknown: int = 0


@dataclass(frozen=True)
class Notice:
    """One text to one member: what it is about and which claim guards it."""

    kind: ClaimKind
    claim_id: str
    visit: Visit
    member: Member
    starts_at: datetime
    window: timedelta | None = None

    def text(self, templates: SmsTemplates) -> str:
        name, language = self.member.display_name, self.member.preferred_language
        if self.kind == "reminder":
            return templates.reminder_text(name, self.starts_at, language)
        return templates.cancellation_text(name, self.starts_at, language)


@dataclass(frozen=True)
class Decision:
    action: Literal["send", "defer", "skip"]
    until: datetime | None = None
    reason: str | None = None


@dataclass
class _Members:
    source: MemberSource
    cache: dict[str, list[Member]] = field(default_factory=dict)

    def of(self, family_id: str) -> list[Member]:
        if family_id not in self.cache:
            self.cache[family_id] = self.source.members_of(family_id)
        return self.cache[family_id]


class ReminderService:
    def __init__(
        self,
        *,
        visits: VisitSource,
        members: MemberSource,
        claims: ClaimStore,
        sender: SmsSender,
        templates: SmsTemplates,
        config: ReminderConfig | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._visits = visits
        self._members = members
        self._claims = claims
        self._sender = sender
        self._templates = templates
        self._config = config or ReminderConfig()
        self._clock = clock

    def run(self) -> RunReport:
        now = self._now()
        start, end = self._config.horizon(now)
        visits = self._visits.visits_starting_between(start, end)
        report = RunReport(visits=len(visits))
        claims: dict[str, list[Claim]] = defaultdict(list)
        for claim in self._claims.for_visits(visits) if visits else []:
            claims[claim.visit_id].append(claim)
        members = _Members(self._members)
        for visit in sorted(visits, key=lambda v: (v.starts_at, v.id)):
            current = [self._release_if_stuck(c, now, report) for c in claims[visit.id]]
            if visit.status == "scheduled":
                self._remind(visit, current, members, now, report)
            elif visit.status == "cancelled":
                self._cancel(visit, current, members, now, report)
            else:
                for claim in current:
                    if claim.is_waiting:
                        self._give_up(claim, REASON_VISIT_NOT_SCHEDULED, now, report)
        self._settle_strays({visit.id for visit in visits}, now, report)
        logger.info("reminder run done", extra={"report": report.__dict__})
        return report

    def _settle_strays(self, seen: set[str], now: datetime, report: RunReport) -> None:
        """Claims overdue for a visit no longer in range: it moved away, started or was deleted."""
        stuck_before = now - self._config.stuck_after
        for claim in self._claims.overdue(now, stuck_before):
            if claim.visit_id in seen:
                continue
            if claim.status == "sending":
                self._release_if_stuck(claim, now, report)
            else:
                self._give_up(claim, REASON_VISIT_MOVED, now, report)

    def _remind(
        self, visit: Visit, claims: list[Claim], members: _Members, now: datetime, report: RunReport
    ) -> None:
        config = self._config
        window = current_window(
            visit.starts_at, config.windows, now, config.timer_period, config.min_spacing
        )
        by_id = {claim.id: claim for claim in claims}
        wanted: set[str] = set()
        if window is not None:
            for member in members.of(visit.family_id):
                if not member.can_be_texted:
                    continue
                claim_id = reminder_claim_id(visit.id, window, member.id, visit.starts_at)
                wanted.add(claim_id)
                notice = Notice("reminder", claim_id, visit, member, visit.starts_at, window)
                self._advance(by_id.get(claim_id), notice, now, report)
        for claim in claims:
            if claim.id in wanted or not claim.is_waiting:
                continue
            if claim.kind == "reminder" and claim.visit_starts_at != visit.starts_at:
                reason = REASON_VISIT_MOVED
            elif window is not None and claim.window_minutes == _minutes(window):
                reason = REASON_OPTED_OUT
            else:
                reason = REASON_SUPERSEDED
            self._give_up(claim, reason, now, report)

    def _cancel(
        self, visit: Visit, claims: list[Claim], members: _Members, now: datetime, report: RunReport
    ) -> None:
        reached: dict[str, list[Claim]] = defaultdict(list)
        for claim in claims:
            if claim.kind != "reminder":
                continue
            if claim.is_waiting:
                self._give_up(claim, REASON_VISIT_CANCELLED, now, report)
            elif claim.may_have_reached:
                reached[claim.member_id].append(claim)
        for claim in claims:
            if claim.kind == "cancellation" and claim.is_waiting and claim.member_id not in reached:
                self._give_up(claim, REASON_SUPERSEDED, now, report)
        if not reached:
            return
        by_id = {claim.id: claim for claim in claims}
        current = {member.id: member for member in members.of(visit.family_id)}
        for member_id, told in reached.items():
            claim_id = cancellation_claim_id(visit.id, member_id)
            member = current.get(member_id)
            if member is None or not member.can_be_texted:
                existing = by_id.get(claim_id)
                if existing is not None and existing.is_waiting:
                    self._give_up(existing, REASON_OPTED_OUT, now, report)
                continue
            latest = max(told, key=lambda c: c.sent_at or c.created_at)
            notice = Notice("cancellation", claim_id, visit, member, latest.visit_starts_at)
            self._advance(by_id.get(claim_id), notice, now, report)

    def _advance(
        self, claim: Claim | None, notice: Notice, now: datetime, report: RunReport
    ) -> None:
        if claim is None:
            self._create(notice, now, report)
            return
        if not claim.is_pending(now):
            return
        decision = self._decide(notice, now)
        if decision.action == "skip":
            self._give_up(claim, decision.reason or REASON_TOO_LATE, now, report)
            return
        if decision.action == "defer":
            changes: dict[str, Any] = {
                "status": "deferred",
                "reason": REASON_QUIET_HOURS,
                "next_attempt_at": decision.until,
            }
            if self._update(claim, now, changes) is not None:
                report.deferred += 1
            return
        taken = self._update(
            claim,
            now,
            {
                "status": "sending",
                "attempts": claim.attempts + 1,
                "to": notice.member.phone,
                "reason": None,
                "next_attempt_at": None,
            },
        )
        if taken is None:
            report.already_claimed += 1
            return
        self._send(taken, notice, report)

    def _create(self, notice: Notice, now: datetime, report: RunReport) -> None:
        decision = self._decide(notice, now)
        claim = Claim(
            id=notice.claim_id,
            family_id=notice.visit.family_id,
            kind=notice.kind,
            visit_id=notice.visit.id,
            member_id=notice.member.id,
            window_minutes=_minutes(notice.window) if notice.window else None,
            visit_starts_at=notice.starts_at,
            status=STATUS_ON_CREATE[decision.action],
            reason=decision.reason,
            attempts=1 if decision.action == "send" else 0,
            next_attempt_at=decision.until,
            to=notice.member.phone,
            created_at=now,
            updated_at=now,
        )
        try:
            created = self._claims.create(claim)
        except ClaimExistsError:
            report.already_claimed += 1
            return
        if decision.action == "send":
            self._send(created, notice, report)
        elif decision.action == "defer":
            report.deferred += 1
        else:
            report.skipped += 1

    def _decide(self, notice: Notice, now: datetime) -> Decision:
        quiet = self._config.quiet_hours
        if now >= notice.starts_at:
            return Decision("skip", reason=REASON_TOO_LATE)
        if not quiet.contains(now):
            return Decision("send")
        until = quiet.end_after(now)
        if until < notice.starts_at:
            return Decision("defer", until=until, reason=REASON_QUIET_HOURS)
        return Decision("skip", reason=REASON_QUIET_HOURS)

    def _send(self, claim: Claim, notice: Notice, report: RunReport) -> None:
        assert claim.to is not None
        outcome: dict[str, Any]
        try:
            result = self._sender.send(
                claim.to, notice.text(self._templates), claim_tag(claim.family_id, claim.id)
            )
        except SmsTransientError as error:
            retry = claim.attempts < self._config.max_attempts
            outcome = {
                "status": "failed",
                "reason": REASON_TRANSIENT if retry else REASON_ATTEMPTS_EXHAUSTED,
                "error": error.reason,
                "next_attempt_at": self._now() if retry else None,
            }
        except SmsPermanentError as error:
            outcome = {"status": "failed", "reason": REASON_REJECTED, "error": error.reason}
        except SmsOutcomeUnknownError as error:
            outcome = {"status": "failed", "reason": REASON_OUTCOME_UNKNOWN, "error": error.reason}
            report.outcome_unknown += 1
        else:
            outcome = {
                "status": "sent",
                "message_id": result.message_id,
                "sent_at": self._now(),
                "error": None,
            }
        self._record(claim, outcome)
        if outcome["status"] == "sent":
            report.sent += 1
        else:
            report.failed += 1
        logger.info(
            "notification %s",
            outcome["status"],
            extra={"claimId": claim.id, "familyId": claim.family_id, "attempt": claim.attempts},
        )

    def _record(self, claim: Claim, outcome: dict[str, Any]) -> Claim | None:
        """Store the send's outcome, even when a delivery report or a stuck-claim check wrote
        to the claim first (the sender knows best what happened; a report knows best whether
        it arrived)."""
        current: Claim | None = claim
        for _ in range(RECORD_TRIES):
            if current is None:
                return None
            changes = dict(outcome, updated_at=self._now())
            if current.status in ("delivered", "undeliverable"):
                changes = {k: v for k, v in changes.items() if k in ("message_id", "sent_at")}
            try:
                return self._claims.replace(current.changed(**changes))
            except ClaimChangedError:
                current = self._claims.get(claim.family_id, claim.id)
        logger.warning("could not record a notification outcome", extra={"claimId": claim.id})
        return None

    def _release_if_stuck(self, claim: Claim, now: datetime, report: RunReport) -> Claim:
        if claim.status != "sending" or now - claim.updated_at < self._config.stuck_after:
            return claim
        changes: dict[str, Any] = {
            "status": "failed",
            "reason": REASON_OUTCOME_UNKNOWN,
            "error": "no outcome was recorded; not sent again to avoid a duplicate text",
            "next_attempt_at": None,
        }
        released = self._update(claim, now, changes)
        if released is None:
            return self._claims.get(claim.family_id, claim.id) or claim
        report.outcome_unknown += 1
        return released

    def _give_up(self, claim: Claim, reason: str, now: datetime, report: RunReport) -> None:
        changes: dict[str, Any] = {"status": "skipped", "reason": reason, "next_attempt_at": None}
        if self._update(claim, now, changes) is not None:
            report.skipped += 1

    def _update(self, claim: Claim, now: datetime, changes: dict[str, Any]) -> Claim | None:
        try:
            return self._claims.replace(claim.changed(**changes, updated_at=now))
        except ClaimChangedError:
            return None

    def _now(self) -> datetime:
        return self._clock().astimezone(UTC)


def _minutes(window: timedelta) -> int:
    return int(window.total_seconds() // 60)
