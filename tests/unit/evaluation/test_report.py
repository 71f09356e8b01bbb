"""Suppression and grouping of the weekly figures: small counts never shown, and never to be
had back by subtracting one figure from another."""

from __future__ import annotations

import csv
import io
from typing import Any

from shared.evaluation.measures import RAW_COUNTS
from shared.evaluation.report import MEASURES, QUESTIONS, as_csv, report, week_cells


def row(**counts: float) -> dict[str, Any]:
    sums = {
        "listenedTo": counts.pop("listenedTo", 0),
        "understoodPlan": counts.pop("understoodPlan", 0),
    }
    hours = counts.pop("hours", None)
    return {"teamId": "t", "week": "2026-W49", "counts": {n: counts.get(n, 0) for n in RAW_COUNTS},
            "sums": sums, "medianHoursToRecord": hours}  # fmt: skip


def cell(cells: dict[str, dict[str, dict[str, Any]]], name: str) -> dict[str, Any]:
    for question in QUESTIONS:
        if name in cells[question]:
            return cells[question][name]
    raise KeyError(name)


def test_every_measure_answers_one_of_the_four_questions() -> None:
    assert {m.question for m in MEASURES} == set(QUESTIONS)
    assert len({m.name for m in MEASURES}) == len(MEASURES)


def test_a_small_count_is_null_and_suppressed_and_zero_is_shown() -> None:
    cells = week_cells(row(familyNotes=4, familyComments=0, wordsEntries=5), 5)
    assert cell(cells, "familyNotes") == {"value": None, "suppressed": True}
    assert cell(cells, "familyComments") == {"value": 0, "suppressed": False}
    assert cell(cells, "wordsEntries") == {"value": 5, "suppressed": False}


def test_a_part_is_suppressed_when_the_rest_of_its_whole_is_small() -> None:
    # 12 sent, 10 delivered: the 2 undelivered would be 12 - 10.
    cells = week_cells(row(remindersSent=12, remindersDelivered=10), 5)
    assert cell(cells, "remindersSent") == {"value": 12, "suppressed": False}
    assert cell(cells, "remindersDelivered") == {"value": None, "suppressed": True}
    cells = week_cells(row(remindersSent=12, remindersDelivered=7), 5)
    assert cell(cells, "remindersDelivered") == {"value": 7, "suppressed": False}
    cells = week_cells(row(visitsHeld=9, visitsRecorded=9), 5)
    assert cell(cells, "visitsRecorded") == {"value": 9, "suppressed": False}  # none unrecorded


def test_no_suppressed_count_can_be_recovered_from_the_figures_shown() -> None:
    """For every whole and part, whatever the counts: when a part or its remainder is small, the
    part is not shown; so no small number is ever the difference of two shown numbers."""
    pairs = {"remindersDelivered": ("remindersSent",), "visitsRecorded": ("visitsHeld",),
             "childrenSeenAlone": ("childrenSeen",),
             "transcriptsApproved": ("mediaVideo", "mediaAudio")}  # fmt: skip
    for part, whole in pairs.items():
        for total in range(13):
            for value in range(total + 1):
                counts = {whole[0]: total, part: value}
                cells = week_cells(row(**counts), 5)
                shown_part = cell(cells, part)["value"]
                shown_whole = cell(cells, whole[0])["value"]
                if shown_part is not None and shown_whole is not None:
                    assert not 0 < shown_whole - shown_part < 5, (part, total, value)
                    assert not 0 < shown_part < 5


def test_a_share_and_a_mean_go_with_their_counts() -> None:
    cells = week_cells(
        row(staffNotes=20, staffNotesShared=15, listenedToAnswers=6, listenedTo=27), 5
    )
    assert cell(cells, "notesSharedShare") == {"value": 0.75, "suppressed": False}
    assert cell(cells, "listenedToMean") == {"value": 4.5, "suppressed": False}
    cells = week_cells(
        row(staffNotes=20, staffNotesShared=17, listenedToAnswers=3, listenedTo=9), 5
    )
    assert cell(cells, "notesSharedShare")["suppressed"]  # 3 not shared
    assert cell(cells, "listenedToMean") == {"value": None, "suppressed": True}
    cells = week_cells(row(visitsHeld=8, visitsRecorded=2, hours=30.5), 5)
    assert cell(cells, "medianHoursToRecord") == {"value": None, "suppressed": True}
    cells = week_cells(row(visitsHeld=8, visitsRecorded=6, hours=30.5), 5)
    assert cell(cells, "medianHoursToRecord") == {"value": 30.5, "suppressed": False}


def test_a_minimum_of_zero_turns_suppression_off() -> None:
    cells = week_cells(row(familyNotes=1, remindersSent=3, remindersDelivered=2), 0)
    assert cell(cells, "familyNotes") == {"value": 1, "suppressed": False}
    assert cell(cells, "remindersDelivered") == {"value": 2, "suppressed": False}


def test_every_team_and_week_asked_for_is_there_and_a_missing_week_is_zeros() -> None:
    figures = report([row(familyNotes=7)], ["t", "u"], ["2026-W49", "2026-W50"], 5)
    assert [(t["teamId"], [w["week"] for w in t["weeks"]]) for t in figures] == [
        ("t", ["2026-W49", "2026-W50"]), ("u", ["2026-W49", "2026-W50"])]  # fmt: skip
    assert figures[0]["weeks"][0]["relationship"]["familyNotes"]["value"] == 7
    assert figures[0]["weeks"][1]["relationship"]["familyNotes"]["value"] == 0
    assert figures[1]["weeks"][0]["time"]["visitsHeld"]["value"] == 0


def test_the_csv_has_one_line_a_team_week_and_measure() -> None:
    figures = report([row(familyNotes=7, familyComments=2)], ["t"], ["2026-W49"], 5)
    lines = list(csv.reader(io.StringIO(as_csv(figures))))
    assert lines[0] == ["teamId", "week", "question", "measure", "value", "suppressed"]
    assert len(lines) == 1 + len(MEASURES)
    assert ["t", "2026-W49", "relationship", "familyNotes", "7", "false"] in lines
    assert ["t", "2026-W49", "relationship", "familyComments", "", "true"] in lines
