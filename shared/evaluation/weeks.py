"""ISO weeks as the borough lives them: a week runs Monday 00:00 to Monday 00:00 in
Europe/London, and an instant belongs to the week of its London date."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def week_of(moment: datetime) -> str:
    """``2026-W49`` for an aware instant."""
    year, week, _ = moment.astimezone(LONDON).date().isocalendar()
    return f"{year}-W{week:02d}"


def week_of_date(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def monday(week: str) -> date:
    year, number = week.split("-W")
    return date.fromisocalendar(int(year), int(number), 1)


def bounds(week: str) -> tuple[datetime, datetime]:
    """The week's first instant and the next week's, in UTC."""
    start = monday(week)
    first = datetime.combine(start, time(), LONDON).astimezone(UTC)
    after = datetime.combine(start + timedelta(days=7), time(), LONDON).astimezone(UTC)
    return first, after


def weeks_between(first: date, last: date) -> list[str]:
    """Every ISO week that has a day in ``first``..``last``, in order."""
    weeks: list[str] = []
    day = first - timedelta(days=first.weekday())
    while day <= last:
        weeks.append(week_of_date(day))
        day += timedelta(days=7)
    return weeks


def parse_instant(value: object) -> datetime | None:
    """An RFC 3339 instant as stored (``Z`` or an offset), or None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
