"""Timer triggers, run on their NCRONTAB schedules.

Schedules come from the decorators, ``%SETTING%`` expressions resolved from the app settings.
The local host runs six-field NCRONTAB expressions (seconds first) and refuses to start with
any other schedule, though the real runtime also takes five fields or a TimeSpan (``rules``).
Each run gets a ``TimerRequest`` with ``past_due`` (more than a second late) and the last
scheduled time; ``runOnStartup`` runs the function once as the host starts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import azure.functions as func
from azure.functions.timer import TimerRequest

from local.host.app import Triggered, resolve_setting_expressions, triggered_by
from local.host.invoke import invoke_logged


@dataclass(frozen=True)
class TimerFunction(Triggered):
    schedule: str
    run_on_startup: bool = False


def timer_functions(
    functions: list[func.Function], settings: Mapping[str, str]
) -> list[TimerFunction]:
    from croniter import croniter

    found: list[TimerFunction] = []
    for target, trigger in triggered_by("timerTrigger", functions):
        schedule = resolve_setting_expressions(str(trigger["schedule"]), settings)
        if len(schedule.split()) != 6 or not croniter.is_valid(schedule, second_at_beginning=True):
            raise ValueError(
                f"{target.name}: schedule {schedule!r} is not a six-field "
                "NCRONTAB expression (seconds first)"
            )
        found.append(
            TimerFunction(
                target.name,
                target.binding,
                target.function,
                schedule=schedule,
                run_on_startup=bool(trigger.get("runOnStartup")),
            )
        )
    return found


def next_occurrence(schedule: str, after: datetime) -> datetime:
    from croniter import croniter

    result = croniter(schedule, after, second_at_beginning=True).get_next(datetime)
    assert isinstance(result, datetime)
    return result


async def run_timer(timer: TimerFunction, clock: Callable[[], datetime]) -> None:
    last: datetime | None = None
    if timer.run_on_startup:
        await invoke_timer(timer, past_due=False, last=None)
    while True:
        now = clock()
        due = next_occurrence(timer.schedule, now)
        await asyncio.sleep(max(0.0, (due - clock()).total_seconds()))
        past_due = (clock() - due).total_seconds() > 1
        await invoke_timer(timer, past_due=past_due, last=last)
        last = due


async def invoke_timer(timer: TimerFunction, *, past_due: bool, last: datetime | None) -> None:
    request = TimerRequest(
        past_due=past_due,
        schedule_status={"Last": last.isoformat() if last else None},
        schedule={"AdjustForDST": True},
    )
    await invoke_logged(timer, request)
