"""A visit as the borough's case management system wants it: a plain-text case note to paste.

Written the way a social worker writes one: no markup, dates and times in Europe/London, the
worker, who was present, each child by the name the family uses (their ``displayName``) with
whether they were seen, seen alone (and if not, why) and whether their bedroom was seen, the
child's views, the agenda and the notes of that visit (records whose ``visitId`` is the visit,
oldest first), and the plan actions agreed at it: the actions of the plans made or reviewed at
the visit (plans whose ``visitId`` is the visit), except those since dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
ACTION_STATUS = {"open": "open", "in_progress": "in progress", "done": "done"}


def local(moment: str) -> datetime:
    """An RFC 3339 instant as wall-clock time in Europe/London."""
    return datetime.fromisoformat(moment.replace("Z", "+00:00")).astimezone(LONDON)


def long_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def when(starts: str, ends: str) -> str:
    """``Thursday 26 November 2026, 16:00 to 17:00``, naming the end's day if it differs."""
    start, end = local(starts), local(ends)
    finish = f"{end:%H:%M}" if end.date() == start.date() else f"{long_date(end)}, {end:%H:%M}"
    return f"{long_date(start)}, {start:%H:%M} to {finish}"


def stamped(moment: str) -> str:
    at = local(moment)
    return f"{at.day} {at:%B %Y} {at:%H:%M}"


def children_lines(outcome: Mapping[str, Any], names: Mapping[str, str]) -> list[str]:
    lines = []
    for child in outcome.get("childrenSeen") or []:
        name = names.get(child["memberId"], "A child no longer on the family's record")
        if not child["seen"]:
            parts = ["not seen"]
        elif child["seenAlone"]:
            parts = ["seen", "seen alone"]
        else:
            reason = str(child.get("notSeenAloneReason") or "no reason given").rstrip(".")
            parts = ["seen", f"not seen alone ({reason})"]
        bedroom = child.get("bedroomSeen")
        if bedroom is not None:
            parts.append("bedroom seen" if bedroom else "bedroom not seen")
        lines.append(f"{name}: {', '.join(parts)}.")
    return lines or ["No child was recorded as seen."]


def agenda_lines(agendas: Sequence[Mapping[str, Any]]) -> list[str]:
    lines: list[str] = []
    for agenda in agendas:
        lines += ["", f"Agenda: {agenda['title']}"]
        for item in agenda.get("items") or []:
            lines.append(f"- {item['text']}" + (" (done)" if item.get("done") else ""))
    return lines


def note_lines(notes: Sequence[Mapping[str, Any]]) -> list[str]:
    if not notes:
        return []
    lines = ["", "Notes"]
    for note in notes:
        author = note["createdBy"]
        who = author["name"] + (" (family)" if author.get("kind") == "family" else "")
        lines.append(f"{who}, {stamped(note['createdAt'])}: {note['body']}")
        for dispute in note.get("disputes") or []:
            lines.append(f"Disputed by {dispute['createdBy']['name']}: {dispute['statement']}")
    return lines


def plan_lines(plans: Sequence[Mapping[str, Any]]) -> list[str]:
    agreed = [
        (plan, [a for a in plan.get("actions") or [] if a.get("status") != "dropped"])
        for plan in plans
    ]
    agreed = [(plan, actions) for plan, actions in agreed if actions]
    if not agreed:
        return []
    lines = ["", "Plan actions agreed"]
    for plan, actions in agreed:
        lines.append(f"{plan['title']}:")
        for action in actions:
            text = f"- {sentence(action['text'])} Owner: {action['owner']}."
            if action.get("dueDate"):
                text += f" Due: {long_date(date.fromisoformat(action['dueDate']))}."
            text += f" Status: {ACTION_STATUS.get(action.get('status', 'open'), 'open')}."
            lines.append(text)
    return lines


def sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def oldest_first(records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(records, key=lambda r: (str(r["createdAt"]), str(r["id"])))


def case_note(
    visit: Mapping[str, Any],
    worker: str | None,
    names: Mapping[str, str],
    papers: Sequence[Mapping[str, Any]],
) -> str:
    """The case note of ``visit``: ``worker`` is the worker's name in the staff directory,
    ``names`` the family's members by id, ``papers`` the visit's notes, agendas and plans."""
    by_type: dict[str, list[Mapping[str, Any]]] = {"note": [], "agenda": [], "plan": []}
    for paper in oldest_first(papers):
        by_type.setdefault(str(paper["type"]), []).append(paper)
    lines = [f"Visit: {when(str(visit['startsAt']), str(visit['endsAt']))}"]
    if visit.get("location"):
        lines.append(f"Location: {visit['location']}")
    if worker:
        lines.append(f"Worker: {worker}")
    outcome = visit.get("outcome") or {}
    if outcome.get("present"):
        lines.append(f"Present: {', '.join(outcome['present'])}")
    if outcome.get("happened"):
        lines.append("The visit took place.")
    elif outcome:
        lines.append(f"The visit did not take place: {outcome.get('reasonNotHappened')}")
    if outcome.get("happened"):
        lines += ["", "Children", *children_lines(outcome, names)]
    if outcome.get("childViews"):
        lines += ["", "Child's views", str(outcome["childViews"])]
    lines += agenda_lines(by_type["agenda"])
    lines += note_lines(by_type["note"])
    lines += plan_lines(by_type["plan"])
    if visit.get("recordedBy") and visit.get("recordedAt"):
        at = local(str(visit["recordedAt"]))
        lines += [
            "",
            f"Recorded by {visit['recordedBy']['name']} on {long_date(at)} at {at:%H:%M}.",
        ]
    return "\n".join(lines) + "\n"
