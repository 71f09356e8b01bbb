"""``ClaimStore`` on the Cosmos DB ``records`` container (partitioned by ``/familyId``).

Notification claims live beside the family's other records (``type: "notification"``), so a
family's notifications are one partition query and its export finds them where everything else
is. A claim is created with ``create_item`` (409 when the id exists: someone else claimed it)
and changed only with ``replace_item`` under ``If-Match`` of the version read (412 when it
moved on). Looking claims up for the visits of a run, or by ACS message id for a delivery
report without a tag, is one cross-partition query on indexed fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.adapters.cosmos_query import query_all
from shared.adapters.faults import COSMOS_DB, translated
from shared.ports.errors import AlreadyExistsError, MissingError, VersionMismatchError
from shared.reminders.models import NOTIFICATION_TYPE, Claim, Visit, instant
from shared.reminders.ports import ClaimChangedError, ClaimExistsError
from shared.storage_layout import RECORDS

if TYPE_CHECKING:
    from shared.adapters.cosmos import ContainerProxy, DatabaseProxy

VISITS_PER_QUERY = 100


class CosmosClaimStore:
    def __init__(self, container: ContainerProxy) -> None:
        self._container = container

    @classmethod
    def from_database(cls, database: DatabaseProxy) -> CosmosClaimStore:
        return cls(database.get_container_client(RECORDS.name))

    def create(self, claim: Claim) -> Claim:
        try:
            with translated(COSMOS_DB):
                stored = self._container.create_item(body=claim.document())
        except AlreadyExistsError:
            raise ClaimExistsError(claim.id) from None
        return _claim(stored)

    def get(self, family_id: str, claim_id: str) -> Claim | None:
        try:
            with translated(COSMOS_DB):
                stored = self._container.read_item(item=claim_id, partition_key=family_id)
        except MissingError:
            return None
        return _claim(stored) if stored.get("type") == NOTIFICATION_TYPE else None

    def replace(self, claim: Claim) -> Claim:
        from azure.core import MatchConditions

        if claim.version is None:
            raise ClaimChangedError(claim.id)
        try:
            with translated(COSMOS_DB):
                stored = self._container.replace_item(
                    item=claim.id,
                    body=claim.document(),
                    etag=claim.version,
                    match_condition=MatchConditions.IfNotModified,
                )
        except (VersionMismatchError, MissingError):
            raise ClaimChangedError(claim.id) from None
        return _claim(stored)

    def for_visits(self, visits: Sequence[Visit]) -> list[Claim]:
        ids = sorted({visit.id for visit in visits})
        found: list[Claim] = []
        for start in range(0, len(ids), VISITS_PER_QUERY):
            found += self._query(
                "SELECT * FROM c WHERE c.type = @type AND ARRAY_CONTAINS(@visitIds, c.visitId)",
                {"@visitIds": ids[start : start + VISITS_PER_QUERY]},
            )
        families = {(visit.family_id, visit.id) for visit in visits}
        return [claim for claim in found if (claim.family_id, claim.visit_id) in families]

    def overdue(self, now: datetime, stuck_before: datetime) -> list[Claim]:
        return self._query(
            "SELECT * FROM c WHERE c.type = @type AND ("
            "(c.status IN ('deferred', 'failed') AND IS_STRING(c.nextAttemptAt) "
            "AND c.nextAttemptAt <= @now) "
            "OR (c.status = 'sending' AND c.updatedAt <= @stuckBefore))",
            {"@now": _text(now), "@stuckBefore": _text(stuck_before)},
        )

    def find_by_message_id(self, message_id: str) -> Claim | None:
        found = self._query(
            "SELECT * FROM c WHERE c.type = @type AND c.messageId = @messageId",
            {"@messageId": message_id},
        )
        return found[0] if found else None

    def for_family(self, family_id: str) -> list[Claim]:
        return self._query(
            "SELECT * FROM c WHERE c.familyId = @familyId AND c.type = @type "
            "ORDER BY c.createdAt DESC, c.id DESC",
            {"@familyId": family_id},
            partition_key=family_id,
        )

    def _query(
        self, query: str, parameters: dict[str, Any], partition_key: str | None = None
    ) -> list[Claim]:
        items = query_all(
            self._container, query, {"@type": NOTIFICATION_TYPE, **parameters}, partition_key
        )
        return [_claim(item) for item in items]


def _text(value: datetime) -> str:
    return instant(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def _claim(document: dict[str, Any]) -> Claim:
    return Claim.model_validate({**document, "version": document.get("_etag")})
