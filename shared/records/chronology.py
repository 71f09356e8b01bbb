"""A family's chronology: the significant events of its life in date order, built from the
records each time it is asked for, never kept as a second copy that could drift.

What is in it:

- every chronology event (a record of its own, for what no other record holds);
- every visit marked ``significant``, and every completed visit with an ``outcome``;
- every note, plan and media item marked ``significant`` (media that was rejected aside).

The date of each (a calendar date in Europe/London):

- a chronology event: its ``date``;
- a visit: the day it started (``startsAt``);
- a note, plan or media item made for a visit (``visitId``): the day of that visit, since it
  records what happened then; otherwise the day it was recorded (``createdAt``).

Order: oldest first; on one day, events known only by their date first, then by the time they
happened, then by when they were recorded and by id, so events of the same day keep their order
however often the chronology is built. ``serial`` numbers what the caller may see from 1.

Category: a chronology event's own; a visit or a plan ``safeguarding``; media ``family``; a
note ``other``. Summary: a chronology event's own; a visit's says where it was and which children
were seen (seen alone) and not seen, or why it did not take place; a plan's its title and how
many actions it has; a media item's its kind and caption; a note's its text, its whitespace run
together, cut at a word after ``NOTE_SUMMARY_LENGTH`` characters.

``source`` is ``{type, id}`` of the record an item comes from: the chronology event itself, or
the visit, note, plan or media item.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from shared.records.case_note import local

NOTE_SUMMARY_LENGTH = 400
CATEGORY = {"visit": "safeguarding", "plan": "safeguarding", "media": "family", "note": "other"}
MEDIA_KIND = {"photo": "Photo", "video": "Video", "audio": "Audio recording"}
SOURCE_LABEL = {
    "chronologyEvent": "Chronology entry",
    "visit": "Visit",
    "note": "Case note",
    "plan": "Plan",
    "media": "Media",
}
COLUMNS = ("Serial", "Date", "Event", "Source")
SPREADSHEET_FORMULA = ("=", "+", "-", "@", "\t", "\r")
WHITESPACE = re.compile(r"\s+")
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def significant(row: Mapping[str, Any]) -> bool:
    record_type = row.get("type")
    if record_type == "chronologyEvent":
        return True
    if record_type == "visit":
        recorded = row.get("status") == "completed" and row.get("outcome") is not None
        return bool(row.get("significant")) or recorded
    if record_type == "media" and row.get("status") == "rejected":
        return False
    return record_type in CATEGORY and row.get("significant") is True


def build(
    rows: Iterable[Mapping[str, Any]], shown: Callable[[Mapping[str, Any]], bool]
) -> list[dict[str, Any]]:
    """The chronology of a family's ``rows`` (``RecordStore.chronology_rows``), of those the
    caller may see (``shown``), numbered from 1."""
    rows = list(rows)
    names = {str(r["id"]): str(r.get("displayName", "")) for r in rows if r["type"] == "member"}
    visits = {str(r["id"]): r for r in rows if r["type"] == "visit"}
    entries = sorted(
        (_entry(row, names, visits) for row in rows if significant(row) and shown(row)),
        key=lambda entry: entry[0],
    )
    return [{"serial": serial, **entry} for serial, (_, entry) in enumerate(entries, start=1)]


def _entry(
    row: Mapping[str, Any], names: Mapping[str, str], visits: Mapping[str, Mapping[str, Any]]
) -> tuple[tuple[str, ...], dict[str, Any]]:
    """An item of the chronology, with the key it is ordered by."""
    record_type = str(row["type"])
    if record_type == "chronologyEvent":
        day, moment = str(row["date"]), ""
        category, summary = str(row["category"]), str(row["summary"])
    else:
        visit = row if record_type == "visit" else visits.get(str(row.get("visitId")))
        moment = str(visit["startsAt"] if visit else row["createdAt"])
        day = local(moment).date().isoformat()
        category, summary = CATEGORY[record_type], _summary(row, names)
    order = (day, moment, str(row.get("createdAt", "")), str(row["id"]))
    return order, {
        "date": day,
        "category": category,
        "summary": summary,
        "source": {"type": record_type, "id": str(row["id"])},
        "visibility": str(row.get("visibility", "family")),
    }


def _summary(row: Mapping[str, Any], names: Mapping[str, str]) -> str:
    record_type = row["type"]
    if record_type == "visit":
        return visit_summary(row, names)
    if record_type == "plan":
        count = len(row.get("actions") or [])
        return f"Plan: {row['title']} ({count} action{'' if count == 1 else 's'})."
    if record_type == "media":
        kind = MEDIA_KIND.get(str(row.get("kind")), "Media")
        return f"{kind}: {row['caption']}" if row.get("caption") else f"{kind} added."
    return shortened(str(row.get("body", "")))


def visit_summary(visit: Mapping[str, Any], names: Mapping[str, str]) -> str:
    where = f"Visit at {visit['location']}" if visit.get("location") else "Visit"
    outcome = visit.get("outcome")
    if outcome is None:
        return f"{where} ({visit.get('status', 'scheduled')})."
    if not outcome.get("happened"):
        return f"{where} did not take place: {outcome.get('reasonNotHappened')}"
    seen, unseen = [], []
    for child in outcome.get("childrenSeen") or []:
        name = names.get(child["memberId"]) or "a child"
        if child["seen"]:
            seen.append(name + (" (alone)" if child["seenAlone"] else ""))
        else:
            unseen.append(name)
    parts = [f"{where}."]
    if seen:
        parts.append(f"Seen: {', '.join(seen)}.")
    if unseen:
        parts.append(f"Not seen: {', '.join(unseen)}.")
    return " ".join(parts)


def shortened(text: str, limit: int = NOTE_SUMMARY_LENGTH) -> str:
    flat = WHITESPACE.sub(" ", text).strip()
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0] or flat[:limit]
    return cut.rstrip(" ,;:.") + "..."


# --- the court's table ------------------------------------------------------------------------


def uk_date(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y")


def source_text(source: Mapping[str, str]) -> str:
    return f"{SOURCE_LABEL.get(source['type'], source['type'])} {source['id']}"


def table(items: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, str, str]]:
    """The court's columns (PD12A): serial, date (dd/mm/yyyy), event, source."""
    return [
        (str(i["serial"]), uk_date(i["date"]), str(i["summary"]), source_text(i["source"]))
        for i in items
    ]


def _cell(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (CSV injection)."""
    return "'" + value if value.startswith(SPREADSHEET_FORMULA) else value


def as_csv(items: Sequence[Mapping[str, Any]]) -> bytes:
    """RFC 4180 CSV with a header row, UTF-8 with a byte order mark (so Excel reads names
    right), CRLF line ends."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.lower() for c in COLUMNS])
    writer.writerows([tuple(_cell(value) for value in row) for row in table(items)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xml_text(text: str) -> str:
    """Text a Word document can hold: control characters XML 1.0 forbids are left out."""
    return NOT_XML.sub("", text)


def as_docx(items: Sequence[Mapping[str, Any]], family_name: str, today: date) -> bytes:
    """A Word document: a heading with the family's name and the date, and the court's table.
    python-docx is imported here, only when a document is asked for."""
    from docx import Document

    document = Document()
    heading = f"{family_name}: chronology at {today.day} {today:%B %Y}"
    document.add_heading(xml_text(heading), level=1)
    grid = document.add_table(rows=1, cols=len(COLUMNS))
    grid.style = "Table Grid"
    for cell, title in zip(grid.rows[0].cells, COLUMNS, strict=True):
        cell.text = title
    for row in table(items):
        for cell, value in zip(grid.add_row().cells, row, strict=True):
            cell.text = xml_text(value)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
