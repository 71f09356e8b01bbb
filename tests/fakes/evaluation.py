"""The pilot evaluation's ports in memory: its store, and case activity read straight from the
in-memory records and audit events (everything, since the figures apply the exact rules)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

from shared.ports.records import Document
from tests.fakes.audit import InMemoryAudit
from tests.fakes.documents import Documents, utc_now
from tests.fakes.records import InMemoryRecords

WATERMARK = ("_updater", "watermark")


class InMemoryEvaluationStore:
    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self.documents = Documents(clock)

    def rows(self, team_ids: Sequence[str] | None, first: str, last: str) -> list[Document]:
        return [
            d
            for d in self.documents.all()
            if d.get("type") == "evaluation-week"
            and first <= str(d["week"]) <= last
            and (team_ids is None or d["teamId"] in team_ids)
        ]

    def save(self, rows: Sequence[Document]) -> None:
        for row in rows:
            self.documents.upsert(str(row["teamId"]), row)

    def watermark(self) -> int | None:
        found = self.documents.read(*WATERMARK)
        return int(found["ts"]) if found else None

    def set_watermark(self, ts: int) -> None:
        self.documents.upsert(WATERMARK[0], {"id": WATERMARK[1], "teamId": WATERMARK[0], "ts": ts})


class RecordsCaseActivity:
    def __init__(self, records: InMemoryRecords, audit: InMemoryAudit) -> None:
        self.records = records
        self.audit = audit

    def _all(self) -> list[Document]:
        conflicts = [
            d
            for d in self.audit.documents.all()
            if d.get("action") == "sync" and d.get("outcome") == "conflict"
        ]
        return self.records.documents.all() + conflicts

    def family_teams(self) -> dict[str, str]:
        return {
            str(d["id"]): str(d["teamId"])
            for d in self.records.documents.all()
            if d.get("type") == "family" and d.get("teamId")
        }

    def changed_since(self, ts: int) -> Iterator[Document]:
        return iter([d for d in self._all() if int(d["_ts"]) > ts])

    def activity(
        self, family_ids: Sequence[str], start: datetime, end: datetime
    ) -> Iterator[Document]:
        wanted = set(family_ids)
        return iter([d for d in self._all() if d.get("familyId") in wanted])
