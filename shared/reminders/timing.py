"""When a reminder is due, and quiet hours, in wall-clock time of the borough (Europe/London).

Instants are timezone-aware and compared in UTC; wall-clock rules (quiet hours) are applied
in the borough's zone, so the clocks changing (BST) neither moves nor doubles a reminder.

Windows are elapsed time: the 24 h reminder of a 10:00 visit on the Sunday the clocks go back
is due at 11:00 BST on the Saturday, exactly 24 hours before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class QuietHours:
    """No texts from ``start`` until ``end`` local time; ``start == end`` means none."""

    start: time = time(20, 0)
    end: time = time(8, 0)
    timezone: str = "Europe/London"

    def contains(self, instant: datetime) -> bool:
        wall = instant.astimezone(ZoneInfo(self.timezone)).time().replace(tzinfo=None)
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end

    def end_after(self, instant: datetime) -> datetime:
        """The first instant at or after ``instant`` that is outside quiet hours (UTC)."""
        if not self.contains(instant):
            return instant.astimezone(UTC)
        zone = ZoneInfo(self.timezone)
        local = instant.astimezone(zone)
        day = local.date()
        if self.start > self.end and local.time().replace(tzinfo=None) >= self.start:
            day += timedelta(days=1)
        return first_instant_at(day, self.end, zone)

    @classmethod
    def parse(cls, text: str, timezone: str = "Europe/London") -> QuietHours:
        """``"20:00-08:00"``; an empty text means no quiet hours."""
        if not text.strip():
            return cls(time(0), time(0), timezone)
        start, separator, end = text.partition("-")
        if not separator:
            raise ValueError("Quiet hours look like 20:00-08:00.")
        return cls(time.fromisoformat(start.strip()), time.fromisoformat(end.strip()), timezone)


def first_instant_at(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The first instant (UTC) at which the local clock on ``day`` reads ``wall`` or later.

    A wall time that happens twice gives its first occurrence; one skipped when the clocks go
    forward gives the instant they jump (01:30 on the spring-forward day gives 02:00 BST).
    """
    naive = datetime.combine(day, wall)
    earliest = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if _wall(earliest, zone) == naive:
        return earliest
    low = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = earliest
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if _wall(middle, zone) >= naive:
            high = middle
        else:
            low = middle
    return high


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def current_window(
    starts_at: datetime,
    windows: tuple[timedelta, ...],
    now: datetime,
    period: timedelta,
    min_spacing: timedelta = timedelta(0),
) -> timedelta | None:
    """The reminder window whose text this run should send for a visit at ``starts_at``, if any.

    A window opens half a timer period before its due time, so the run nearest the due time
    sends it. Of the open windows only the shortest counts (a visit booked two hours ahead gets
    the 2 h reminder, not the 24 h one as well). A window whose successor opens within
    ``min_spacing`` gives way to it, so a family never gets two reminders minutes apart.
    """
    if now >= starts_at:
        return None
    early = period / 2
    opened = sorted(w for w in windows if starts_at - w - early <= now)
    if not opened:
        return None
    window = opened[0]
    shorter = [w for w in windows if w < window]
    if shorter and starts_at - max(shorter) - early - now < min_spacing:
        return None
    return window


def parse_duration(text: str) -> timedelta:
    """``"24h"``, ``"90m"``, ``"2h30m"``."""
    remaining, total = text.strip().lower(), timedelta(0)
    if not remaining:
        raise ValueError("A duration looks like 24h, 90m or 2h30m.")
    for unit, size in (("h", timedelta(hours=1)), ("m", timedelta(minutes=1))):
        number, found, rest = remaining.partition(unit)
        if found:
            if not number.isdigit():
                raise ValueError("A duration looks like 24h, 90m or 2h30m.")
            total += int(number) * size
            remaining = rest
    if remaining or total <= timedelta(0):
        raise ValueError("A duration looks like 24h, 90m or 2h30m.")
    return total


def timer_period(schedule: str) -> timedelta:
    """The period of an NCRONTAB schedule that fires every N seconds, minutes or hours.

    ``"0 */5 * * * *"`` is 5 minutes. Other shapes raise ``ValueError``: the reminder run needs
    a fixed period to know how early a window opens.
    """
    fields = schedule.split()
    if len(fields) != 6:
        raise ValueError("The reminder schedule must be a six-field NCRONTAB expression.")
    units = (timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1))
    for index, unit in enumerate(units):
        head, rest = fields[index], fields[index + 1 : 6]
        fixed = fields[:index]
        if not all(f == "*" for f in rest) or not all(f.isdigit() for f in fixed):
            continue
        if head.startswith("*/") and head[2:].isdigit() and int(head[2:]) > 0:
            return int(head[2:]) * unit
        if head == "*":
            return unit
    raise ValueError("The reminder schedule must fire every N seconds, minutes or hours.")
