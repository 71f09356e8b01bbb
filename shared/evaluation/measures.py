"""What each weekly figure is, and how it is counted from a team's records.

``tally`` turns the documents of one team's families (and their sync-conflict audit events)
into one raw aggregate per ISO week. It is pure: the timer and the rebuild feed it the same way,
so an incremental update and a rebuild of the same weeks give the same figures.

Which week a record counts in:
- a visit: the week it starts (``startsAt``); held when completed or recorded as happened;
- a note, comment, media item or words entry: the week it was created (``createdAt``);
- an agenda item: the week it was added (``addedAt``; items from before that field existed
  count in their agenda's creation week);
- a reminder: the week it was sent (``sentAt``);
- a sync conflict: the week its audit event was written (``at``).

Deleted records count nowhere: a figure says what the record holds now.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.evaluation.weeks import parse_instant, week_of

RAW_COUNTS = (
    "visitsHeld",
    "visitsRecorded",
    "childrenSeen",
    "childrenSeenAlone",
    "staffNotes",
    "staffNotesShared",
    "familyNotes",
    "familyComments",
    "familyAgendaItems",
    "wordsEntries",
    "mediaPhoto",
    "mediaVideo",
    "mediaAudio",
    "transcriptsApproved",
    "remindersSent",
    "remindersDelivered",
    "listenedToAnswers",
    "understoodPlanAnswers",
    "syncConflicts",
)
SUMS = ("listenedTo", "understoodPlan")
MEDIA_KINDS = {"photo": "mediaPhoto", "video": "mediaVideo", "audio": "mediaAudio"}
SENT = ("sent", "delivered", "undeliverable")


@dataclass
class WeekTally:
    counts: dict[str, int]
    sums: dict[str, int]
    hours_to_record: list[float]

    @classmethod
    def empty(cls) -> WeekTally:
        return cls({name: 0 for name in RAW_COUNTS}, {name: 0 for name in SUMS}, [])

    def as_row(self, team_id: str, week: str, computed_at: str) -> dict[str, Any]:
        median = statistics.median(self.hours_to_record) if self.hours_to_record else None
        return {
            "id": f"{team_id}:{week}",
            "teamId": team_id,
            "week": week,
            "type": "evaluation-week",
            "counts": dict(self.counts),
            "sums": dict(self.sums),
            "medianHoursToRecord": round(median, 1) if median is not None else None,
            "computedAt": computed_at,
        }


def _by(document: Mapping[str, Any]) -> str:
    actor = document.get("createdBy")
    return str(actor.get("kind")) if isinstance(actor, Mapping) else ""


def _week(value: object) -> str | None:
    instant = parse_instant(value)
    return week_of(instant) if instant is not None else None


def _answer(value: object) -> int | None:
    return (
        value
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5
        else None
    )


class Tally:
    """Raw weekly figures for one team, built a document at a time."""

    def __init__(self, weeks: Iterable[str]) -> None:
        self.weeks = {week: WeekTally.empty() for week in weeks}

    def _at(self, value: object) -> WeekTally | None:
        week = _week(value)
        return self.weeks.get(week) if week is not None else None

    def add(self, document: Mapping[str, Any]) -> None:
        if document.get("deleted") is True:
            return
        kind = document.get("type")
        if kind == "visit":
            self._visit(document)
        elif kind == "note":
            self._note(document)
        elif kind == "comment" and _by(document) == "family":
            self._count(document.get("createdAt"), "familyComments")
        elif kind == "agenda":
            self._agenda(document)
        elif kind == "media":
            self._media(document)
        elif kind == "words":
            self._words(document)
        elif kind == "notification":
            self._reminder(document)
        elif kind == "audit" and document.get("outcome") == "conflict":
            self._count(document.get("at"), "syncConflicts")

    def _count(self, when: object, name: str, amount: int = 1) -> None:
        week = self._at(when)
        if week is not None:
            week.counts[name] += amount

    def _visit(self, visit: Mapping[str, Any]) -> None:
        week = self._at(visit.get("startsAt"))
        if week is None:
            return
        outcome = visit.get("outcome")
        recorded = isinstance(outcome, Mapping)
        happened = bool(outcome.get("happened")) if isinstance(outcome, Mapping) else False
        if not (visit.get("status") == "completed" or happened):
            return
        week.counts["visitsHeld"] += 1
        if not recorded:
            return
        week.counts["visitsRecorded"] += 1
        children = outcome.get("childrenSeen") if isinstance(outcome, Mapping) else None
        for child in children if isinstance(children, list) else []:
            if isinstance(child, Mapping) and child.get("seen") is True:
                week.counts["childrenSeen"] += 1
                week.counts["childrenSeenAlone"] += child.get("seenAlone") is True
        ended = parse_instant(visit.get("endsAt")) or parse_instant(visit.get("startsAt"))
        written = parse_instant(visit.get("recordedAt"))  # set by the server with the outcome
        if ended is not None and written is not None:
            week.hours_to_record.append(max(0.0, (written - ended).total_seconds() / 3600))

    def _note(self, note: Mapping[str, Any]) -> None:
        if _by(note) == "family":
            self._count(note.get("createdAt"), "familyNotes")
            return
        self._count(note.get("createdAt"), "staffNotes")
        if note.get("visibility") == "family":
            self._count(note.get("createdAt"), "staffNotesShared")

    def _agenda(self, agenda: Mapping[str, Any]) -> None:
        items = agenda.get("items")
        for item in items if isinstance(items, list) else []:
            added_by = item.get("addedBy") if isinstance(item, Mapping) else None
            if isinstance(added_by, Mapping) and added_by.get("kind") == "family":
                when = item.get("addedAt") or agenda.get("createdAt")
                self._count(when, "familyAgendaItems")

    def _media(self, media: Mapping[str, Any]) -> None:
        name = MEDIA_KINDS.get(str(media.get("kind")))
        if name is not None:
            self._count(media.get("createdAt"), name)
        if media.get("transcriptApproved") is True:
            self._count(media.get("createdAt"), "transcriptsApproved")

    def _words(self, words: Mapping[str, Any]) -> None:
        week = self._at(words.get("createdAt"))
        if week is None:
            return
        week.counts["wordsEntries"] += 1
        answers = words.get("answers")
        for name in SUMS:
            value = _answer(answers.get(name)) if isinstance(answers, Mapping) else None
            if value is not None:
                week.counts[f"{name}Answers"] += 1
                week.sums[name] += value

    def _reminder(self, claim: Mapping[str, Any]) -> None:
        if claim.get("status") not in SENT:
            return
        self._count(claim.get("sentAt"), "remindersSent")
        if claim.get("status") == "delivered":
            self._count(claim.get("sentAt"), "remindersDelivered")

    def rows(self, team_id: str, computed_at: datetime) -> list[dict[str, Any]]:
        stamp = computed_at.isoformat().replace("+00:00", "Z")
        return [tally.as_row(team_id, week, stamp) for week, tally in sorted(self.weeks.items())]


def tally(
    team_id: str, weeks: Iterable[str], documents: Iterable[Mapping[str, Any]], at: datetime
) -> list[dict[str, Any]]:
    """One raw aggregate per week in ``weeks`` for ``team_id``, from its families' documents."""
    counted = Tally(weeks)
    for document in documents:
        counted.add(document)
    return counted.rows(team_id, at)


def weeks_touched(document: Mapping[str, Any], since: datetime | None = None) -> set[str]:
    """The weeks whose figures a changed document can move: every week any of its dates falls
    in (an agenda's items only where added since ``since``, when given)."""
    touched: set[str] = set()
    for field in ("createdAt", "startsAt", "sentAt", "at"):
        week = _week(document.get(field))
        if week is not None:
            touched.add(week)
    items = document.get("items")
    for item in items if isinstance(items, list) else []:
        added = parse_instant(item.get("addedAt")) if isinstance(item, Mapping) else None
        if added is not None and (since is None or added >= since):
            touched.add(week_of(added))
    return touched
