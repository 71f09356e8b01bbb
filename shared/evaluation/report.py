"""The weekly figures as served: grouped under the pilot's four questions, small counts
suppressed, as JSON or CSV.

Suppression. A count from 1 to ``EVALUATION_MIN_COUNT - 1`` is shown as ``null`` with
``suppressed: true`` (0 is shown: it says nothing about anyone). Nothing served is a total of
other cells (no row for all weeks or all teams, no sum of the contribution kinds), so no
suppressed cell can be had by subtracting the others from a total. Where a figure is a part of
another (delivered of sent, recorded of held, seen alone of seen, approved of recordings,
shared of written), the part is also suppressed when the rest of the whole is a small count,
since whole minus part would reveal it: complementary suppression, not rounding. A mean or a
median is suppressed with the count it is taken over.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Row = Mapping[str, Any]
QUESTIONS = ("relationship", "understanding", "practice", "time")


def _small(count: int, minimum: int) -> bool:
    return 0 < count < minimum


def _count(row: Row, name: str) -> int:
    return int(row.get("counts", {}).get(name, 0))


@dataclass(frozen=True)
class Measure:
    name: str
    question: str
    means: str
    cell: Callable[[Row, int], tuple[float | int | None, bool]]


def count(name: str) -> Callable[[Row, int], tuple[float | int | None, bool]]:
    def cell(row: Row, minimum: int) -> tuple[float | int | None, bool]:
        value = _count(row, name)
        return (None, True) if _small(value, minimum) else (value, False)

    return cell


def part(name: str, *whole: str) -> Callable[[Row, int], tuple[float | int | None, bool]]:
    def cell(row: Row, minimum: int) -> tuple[float | int | None, bool]:
        value = _count(row, name)
        rest = sum(_count(row, w) for w in whole) - value
        if _small(value, minimum) or _small(rest, minimum):
            return None, True
        return value, False

    return cell


def share(name: str, whole: str) -> Callable[[Row, int], tuple[float | int | None, bool]]:
    def cell(row: Row, minimum: int) -> tuple[float | int | None, bool]:
        value, total = _count(row, name), _count(row, whole)
        if any(_small(n, minimum) for n in (value, total, total - value)):
            return None, True
        return (round(value / total, 2) if total else None), False

    return cell


def mean(total: str, over: str) -> Callable[[Row, int], tuple[float | int | None, bool]]:
    def cell(row: Row, minimum: int) -> tuple[float | int | None, bool]:
        answers = _count(row, over)
        if _small(answers, minimum):
            return None, True
        summed = int(row.get("sums", {}).get(total, 0))
        return (round(summed / answers, 2) if answers else None), False

    return cell


def median_hours(row: Row, minimum: int) -> tuple[float | int | None, bool]:
    if _small(_count(row, "visitsRecorded"), minimum):
        return None, True
    value = row.get("medianHoursToRecord")
    return (float(value) if value is not None else None), False


MEASURES: tuple[Measure, ...] = (
    Measure("familyNotes", "relationship", "notes written by family members", count("familyNotes")),
    Measure("familyComments", "relationship", "comments by family members",
            count("familyComments")),
    Measure("familyAgendaItems", "relationship", "agenda items added by family members",
            count("familyAgendaItems")),
    Measure("wordsEntries", "relationship", "'in my words' entries", count("wordsEntries")),
    Measure("listenedToAnswers", "relationship", "after-visit answers to 'I was listened to'",
            count("listenedToAnswers")),
    Measure("listenedToMean", "relationship", "their mean, 1 to 5",
            mean("listenedTo", "listenedToAnswers")),
    Measure("notesSharedShare", "understanding", "share of staff notes shared with the family",
            share("staffNotesShared", "staffNotes")),
    Measure("understoodPlanAnswers", "understanding",
            "after-visit answers to 'I understood the plan'", count("understoodPlanAnswers")),
    Measure("understoodPlanMean", "understanding", "their mean, 1 to 5",
            mean("understoodPlan", "understoodPlanAnswers")),
    Measure("mediaPhoto", "understanding", "photos added", count("mediaPhoto")),
    Measure("mediaVideo", "understanding", "videos added", count("mediaVideo")),
    Measure("mediaAudio", "understanding", "audio recordings added", count("mediaAudio")),
    Measure("transcriptsApproved", "understanding", "recordings whose transcript staff approved",
            part("transcriptsApproved", "mediaVideo", "mediaAudio")),
    Measure("visitsRecorded", "practice", "visits held with a record of the visit (outcome)",
            part("visitsRecorded", "visitsHeld")),
    Measure("childrenSeen", "practice", "children seen at recorded visits", count("childrenSeen")),
    Measure("childrenSeenAlone", "practice", "of them, seen alone",
            part("childrenSeenAlone", "childrenSeen")),
    Measure("remindersSent", "practice", "visit reminders texted", count("remindersSent")),
    Measure("remindersDelivered", "practice", "of them, delivered",
            part("remindersDelivered", "remindersSent")),
    Measure("visitsHeld", "time", "visits held", count("visitsHeld")),
    Measure("medianHoursToRecord", "time", "median hours from a visit's end to its record",
            median_hours),
    Measure("staffNotes", "time", "notes written by staff", count("staffNotes")),
    Measure("syncConflicts", "time", "sync conflicts shown to a device", count("syncConflicts")),
)  # fmt: skip


def week_cells(row: Row, minimum: int) -> dict[str, dict[str, dict[str, Any]]]:
    grouped: dict[str, dict[str, dict[str, Any]]] = {question: {} for question in QUESTIONS}
    for measure in MEASURES:
        value, suppressed = measure.cell(row, minimum)
        grouped[measure.question][measure.name] = {"value": value, "suppressed": suppressed}
    return grouped


def report(
    rows: Sequence[Row], teams: Sequence[str], weeks: Sequence[str], minimum: int
) -> list[dict[str, Any]]:
    """Every team and week asked for; a week with no stored figures is a week of zeros."""
    stored = {(str(r["teamId"]), str(r["week"])): r for r in rows}
    return [
        {
            "teamId": team,
            "weeks": [
                {"week": week, **week_cells(stored.get((team, week), {}), minimum)}
                for week in weeks
            ],
        }
        for team in teams
    ]


def as_csv(teams: Sequence[Mapping[str, Any]]) -> str:
    """One line a team, week and measure: ``teamId,week,question,measure,value,suppressed``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["teamId", "week", "question", "measure", "value", "suppressed"])
    for team in teams:
        for week in team["weeks"]:
            for question in QUESTIONS:
                for name, cell in week[question].items():
                    value = "" if cell["value"] is None else cell["value"]
                    writer.writerow(
                        [team["teamId"], week["week"], question, name, value,
                         str(cell["suppressed"]).lower()]
                    )  # fmt: skip
    return out.getvalue()
