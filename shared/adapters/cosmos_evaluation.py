"""The pilot evaluation on Cosmos DB: its ``evaluation`` container (partitioned by team), and
the reads of case activity it is counted from (``records`` and ``audit``).

Dates are stored as clients and the server wrote them (RFC 3339, ``Z`` or an offset, with or
without fractions of a second), so text order is not quite time order: each range asked for is
widened by the largest offset there is on each side (``text_range``), and the figures apply the
exact week to the parsed instants. The reads are a superset, never missing a document.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.adapters.cosmos_query import query, query_all
from shared.adapters.cosmos_reminder_sources import text_range
from shared.adapters.faults import COSMOS_DB, translated
from shared.ports.errors import MissingError
from shared.ports.records import Document
from shared.storage_layout import AUDIT, EVALUATION, RECORDS

if TYPE_CHECKING:
    from shared.adapters.cosmos import ContainerProxy, DatabaseProxy

ROW_TYPE = "evaluation-week"
WATERMARK = {"id": "watermark", "teamId": "_updater", "type": "evaluation-watermark"}
PAGE_SIZE = 1000

ROWS = "SELECT * FROM c WHERE c.type = @type AND c.week >= @first AND c.week <= @last"
FAMILY_TEAMS = "SELECT c.id, c.teamId FROM c WHERE c.type = 'family' AND c.id = c.familyId"
FIELDS = (
    "c.id, c.familyId, c.type, c.deleted, c.createdAt, c.createdBy, c.visibility, c.startsAt, "
    "c.endsAt, c.status, c.outcome, c.recordedAt, c.kind, c.transcriptApproved, c.items, "
    "c.sentAt, c.answers"
)
# Constant texts only (no value is ever formatted in): every value is a parameter.
CONFLICTS = "c.type = 'audit' AND c.action = 'sync' AND c.outcome = 'conflict'"
CHANGED_RECORDS = "SELECT " + FIELDS + ", c._ts FROM c WHERE c._ts > @ts"  # noqa: S608
CHANGED_CONFLICTS = (
    "SELECT c.familyId, c.type, c.at, c.outcome, c._ts FROM c WHERE c._ts > @ts AND " + CONFLICTS  # noqa: S608
)
ACTIVITY = (
    "SELECT " + FIELDS + " FROM c WHERE ARRAY_CONTAINS(@families, c.familyId) AND ("  # noqa: S608
    "(c.createdAt >= @low AND c.createdAt < @high) "
    "OR (c.startsAt >= @low AND c.startsAt < @high) "
    "OR (c.sentAt >= @low AND c.sentAt < @high) "
    "OR (c.type = 'agenda' AND c.updatedAt >= @low))"
)
ACTIVITY_CONFLICTS = (
    "SELECT c.familyId, c.type, c.at, c.outcome FROM c "  # noqa: S608
    "WHERE ARRAY_CONTAINS(@families, c.familyId) AND " + CONFLICTS + " "
    "AND c.at >= @low AND c.at < @high"
)


class CosmosEvaluationStore:
    def __init__(self, container: ContainerProxy) -> None:
        self._container = container

    @classmethod
    def from_database(cls, database: DatabaseProxy) -> CosmosEvaluationStore:
        return cls(database.get_container_client(EVALUATION.name))

    def rows(self, team_ids: Sequence[str] | None, first: str, last: str) -> list[Document]:
        parameters: dict[str, Any] = {"@type": ROW_TYPE, "@first": first, "@last": last}
        if team_ids is not None and len(team_ids) == 1:
            return query_all(self._container, ROWS, parameters, partition_key=team_ids[0])
        text = ROWS
        if team_ids is not None:
            text += " AND ARRAY_CONTAINS(@teams, c.teamId)"
            parameters["@teams"] = list(team_ids)
        return list(query(self._container, text, parameters, page_size=PAGE_SIZE))

    def save(self, rows: Sequence[Document]) -> None:
        with translated(COSMOS_DB):
            for row in rows:
                self._container.upsert_item(row)

    def watermark(self) -> int | None:
        try:
            with translated(COSMOS_DB):
                found = self._container.read_item(WATERMARK["id"], WATERMARK["teamId"])
        except MissingError:
            return None
        return int(found["ts"])

    def set_watermark(self, ts: int) -> None:
        with translated(COSMOS_DB):
            self._container.upsert_item({**WATERMARK, "ts": ts})


class CosmosCaseActivity:
    def __init__(self, records: ContainerProxy, audit: ContainerProxy) -> None:
        self._records = records
        self._audit = audit

    @classmethod
    def from_database(cls, database: DatabaseProxy) -> CosmosCaseActivity:
        return cls(
            database.get_container_client(RECORDS.name), database.get_container_client(AUDIT.name)
        )

    def family_teams(self) -> dict[str, str]:
        rows = query(self._records, FAMILY_TEAMS, {}, page_size=PAGE_SIZE)
        return {str(r["id"]): str(r["teamId"]) for r in rows if r.get("teamId")}

    def changed_since(self, ts: int) -> Iterator[Document]:
        yield from query(self._records, CHANGED_RECORDS, {"@ts": ts}, page_size=PAGE_SIZE)
        yield from query(self._audit, CHANGED_CONFLICTS, {"@ts": ts}, page_size=PAGE_SIZE)

    def activity(
        self, family_ids: Sequence[str], start: datetime, end: datetime
    ) -> Iterator[Document]:
        if not family_ids:
            return
        low, high = text_range(start, end)
        parameters = {"@families": list(family_ids), "@low": low, "@high": high}
        yield from query(self._records, ACTIVITY, parameters, page_size=PAGE_SIZE)
        yield from query(self._audit, ACTIVITY_CONFLICTS, parameters, page_size=PAGE_SIZE)
