from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.reminders.service import ReminderConfig
from shared.reminders.timing import (
    QuietHours,
    current_window,
    first_instant_at,
    parse_duration,
    timer_period,
)

LONDON = ZoneInfo("Europe/London")
WINDOWS = (timedelta(hours=24), timedelta(hours=2))
PERIOD = timedelta(minutes=5)


def london(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("wall", "quiet"),
    [
        (london(2026, 11, 26, 19, 59), False),
        (london(2026, 11, 26, 20, 0), True),
        (london(2026, 11, 26, 23, 30), True),
        (london(2026, 11, 27, 0, 0), True),
        (london(2026, 11, 27, 7, 59), True),
        (london(2026, 11, 27, 8, 0), False),
        (london(2026, 7, 1, 20, 30), True),
        (london(2026, 7, 1, 7, 30), True),
    ],
)
def test_default_quiet_hours_are_20_to_08_london_time(wall: datetime, quiet: bool) -> None:
    assert QuietHours().contains(wall.astimezone(UTC)) is quiet


def test_quiet_hours_follow_british_summer_time() -> None:
    assert QuietHours().contains(utc(2026, 7, 1, 19, 30))
    assert not QuietHours().contains(utc(2026, 12, 1, 19, 30))


def test_end_of_quiet_hours_is_the_next_0800_london() -> None:
    quiet = QuietHours()
    assert quiet.end_after(london(2026, 11, 26, 22, 0)) == london(2026, 11, 27, 8, 0)
    assert quiet.end_after(london(2026, 11, 27, 3, 0)) == london(2026, 11, 27, 8, 0)
    assert quiet.end_after(london(2026, 11, 27, 9, 0)) == london(2026, 11, 27, 9, 0)


def test_end_of_quiet_hours_across_the_clocks_going_back() -> None:
    night = utc(2026, 10, 24, 22, 30)
    assert night.astimezone(LONDON).tzname() == "BST"

    end = QuietHours().end_after(night)

    assert end == utc(2026, 10, 25, 8, 0)
    assert end.astimezone(LONDON).hour == 8
    assert end.astimezone(LONDON).tzname() == "GMT"
    assert end - night == timedelta(hours=9, minutes=30)


def test_quiet_hours_that_end_in_the_spring_forward_gap_end_when_the_clocks_jump() -> None:
    quiet = QuietHours(start=time(22, 0), end=time(1, 30))
    before_the_jump = utc(2026, 3, 29, 0, 45)
    assert quiet.contains(before_the_jump)

    end = quiet.end_after(before_the_jump)

    assert end == utc(2026, 3, 29, 1, 0)
    assert end.astimezone(LONDON).strftime("%H:%M %Z") == "02:00 BST"
    assert not quiet.contains(end)
    assert quiet.contains(end - timedelta(seconds=1))


def test_a_wall_time_that_happens_twice_means_its_first_occurrence() -> None:
    assert first_instant_at(date(2026, 10, 25), time(1, 30), LONDON) == utc(2026, 10, 25, 0, 30)
    assert first_instant_at(date(2026, 10, 24), time(1, 30), LONDON) == utc(2026, 10, 24, 0, 30)
    assert first_instant_at(date(2026, 3, 29), time(1, 30), LONDON) == utc(2026, 3, 29, 1, 0)


def test_quiet_hours_within_one_day_and_none_at_all() -> None:
    lunch = QuietHours(start=time(12, 0), end=time(13, 0))
    assert lunch.contains(london(2026, 11, 26, 12, 30).astimezone(UTC))
    assert not lunch.contains(london(2026, 11, 26, 13, 0).astimezone(UTC))
    assert lunch.end_after(london(2026, 11, 26, 12, 30)) == london(2026, 11, 26, 13, 0)
    assert not QuietHours.parse("").contains(london(2026, 11, 26, 23, 0))


def test_quiet_hours_parse_from_a_setting() -> None:
    assert QuietHours.parse("21:30-07:00") == QuietHours(time(21, 30), time(7, 0))
    with pytest.raises(ValueError, match="20:00-08:00"):
        QuietHours.parse("21:30")


def test_the_24h_window_opens_half_a_period_early_and_the_2h_window_takes_over() -> None:
    starts = utc(2026, 11, 27, 14, 0)

    def window(now: datetime) -> timedelta | None:
        return current_window(starts, WINDOWS, now, PERIOD)

    assert window(starts - timedelta(hours=24, minutes=3)) is None
    assert window(starts - timedelta(hours=24, minutes=2)) == timedelta(hours=24)
    assert window(starts - timedelta(hours=3)) == timedelta(hours=24)
    assert window(starts - timedelta(hours=2)) == timedelta(hours=2)
    assert window(starts - timedelta(minutes=1)) == timedelta(hours=2)
    assert window(starts) is None


def test_a_window_gives_way_to_the_next_one_opening_soon() -> None:
    starts = utc(2026, 11, 27, 14, 0)
    now = starts - timedelta(hours=2, minutes=30)

    assert current_window(starts, WINDOWS, now, PERIOD) == timedelta(hours=24)
    assert current_window(starts, WINDOWS, now, PERIOD, timedelta(hours=1)) is None


def test_durations_and_timer_periods_parse_from_settings() -> None:
    assert parse_duration("24h") == timedelta(hours=24)
    assert parse_duration("2h30m") == timedelta(hours=2, minutes=30)
    assert parse_duration("90m") == timedelta(minutes=90)
    for bad in ("", "h", "5", "0m", "2d"):
        with pytest.raises(ValueError, match="duration"):
            parse_duration(bad)
    assert timer_period("0 */5 * * * *") == timedelta(minutes=5)
    assert timer_period("0 0 */2 * * *") == timedelta(hours=2)
    assert timer_period("0 * * * * *") == timedelta(minutes=1)
    assert timer_period("*/30 * * * * *") == timedelta(seconds=30)
    for bad in ("*/5 * * * *", "0 0 9 * * 1-5", "0 */0 * * * *"):
        with pytest.raises(ValueError, match="schedule"):
            timer_period(bad)


def test_reminder_configuration_reads_the_setting_strings() -> None:
    config = ReminderConfig.parse(
        windows="48h, 2h30m", quiet_hours="21:00-07:30", schedule="0 */10 * * * *", max_attempts=5
    )

    assert config.windows == (timedelta(hours=48), timedelta(hours=2, minutes=30))
    assert config.quiet_hours == QuietHours(time(21, 0), time(7, 30))
    assert config.timer_period == timedelta(minutes=10)
    assert config.max_attempts == 5
    assert ReminderConfig.parse() == ReminderConfig()
    with pytest.raises(ValueError, match="windows"):
        ReminderConfig.parse(windows="")
    with pytest.raises(ValueError, match="differ"):
        ReminderConfig.parse(windows="2h,120m")
