"""A family's chronology, as the caller may see it: JSON, CSV with the court's columns, or a Word
document with the same table (``shared.records.chronology`` says what is in it and in which
order). Built from the records at each request with one query (``RecordStore.chronology_rows``);
staff see every item, family members those shared with the family. Each request is audited as a
``read`` of the family's ``chronology``, with the format as its detail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.access import Caller, family_may_see
from shared.errors import BadRequestError
from shared.ports.runtime import Runtime
from shared.records import chronology
from shared.records.case_note import local
from shared.records.family_access import access_family
from shared.records.store import now_iso

FORMATS = ("json", "csv", "docx")
CSV = "text/csv"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class Chronology:
    """The chronology in the format asked for: ``{items}`` (JSON), or a file's bytes, media type
    and name."""

    items: list[dict[str, Any]]
    content: bytes | None = None
    media_type: str = "application/json"
    file_name: str | None = None


def read_chronology(
    runtime: Runtime, caller: Caller, family_id: str, format_name: str | None
) -> Chronology:
    chosen = format_name or "json"
    if chosen not in FORMATS:
        raise BadRequestError("format must be json, csv or docx.")
    access = access_family(runtime, caller, family_id, "chronology")
    rows = runtime.records.chronology_rows(access.family_id)
    items = chronology.build(rows, (lambda row: True) if access.is_staff else family_may_see)
    runtime.audit.record(
        caller, "read", access.family_id, "chronology", None, detail=f"format {chosen}"
    )
    name = f"chronology-{access.family_id}.{chosen}"
    if chosen == "csv":
        return Chronology(items, chronology.as_csv(items), CSV, name)
    if chosen == "docx":
        today = local(now_iso(runtime.clock())).date()
        family_name = str(access.family.get("displayName", "The family"))
        return Chronology(items, chronology.as_docx(items, family_name, today), DOCX, name)
    return Chronology(items)
