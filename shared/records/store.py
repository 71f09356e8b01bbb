"""The case-records container: point reads, conditional writes and paged queries in one family.

Every write is conditional: creates fail if the id exists, replaces carry the ETag read, so two
racing updates can never both win. Queries always name the family (one logical partition).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shared.storage_layout import RECORDS

if TYPE_CHECKING:
    from azure.cosmos import ContainerProxy, DatabaseProxy

SYSTEM_FIELDS = ("_rid", "_self", "_attachments", "_ts", "_etag", "_lsn")
HISTORY_LENGTH = 20
UNTRACKED_FIELDS = frozenset(
    {*SYSTEM_FIELDS, "updatedAt", "updatedBy", "changeLog", "everShared", "requestHash"}
)


class AlreadyExistsError(Exception):
    def __init__(self, existing: dict[str, Any] | None) -> None:
        super().__init__("a document with this id exists")
        self.existing = existing


class VersionMismatchError(Exception):
    def __init__(self, current: dict[str, Any] | None) -> None:
        super().__init__("the document changed since it was read")
        self.current = current


def now_iso(clock: datetime | None = None) -> str:
    moment = (clock or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def version_of(document: Mapping[str, Any]) -> str:
    return str(document.get("_etag", "")).strip('"')


def etag_matches(header: str | None, document: Mapping[str, Any]) -> bool:
    """Whether an ``If-Match`` / ``If-None-Match`` header names the document's version."""
    if header is None:
        return False
    current = version_of(document)
    for candidate in header.split(","):
        value = candidate.strip()
        if value == "*":
            return True
        if value.startswith("W/"):
            value = value[2:]
        if value.strip('"') == current:
            return True
    return False


def content_hash(payload: Mapping[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).decode()[:32]


def shared_with_family(document: Mapping[str, Any]) -> bool:
    return document.get("visibility") == "family"


def with_history(current: Mapping[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """The new version, remembering which fields changed from which version (the last 20
    changes), and whether the family has ever been able to see it."""
    changed = sorted(
        name
        for name in set(current) | set(document)
        if name not in UNTRACKED_FIELDS and current.get(name) != document.get(name)
    )
    entry = {"base": version_of(current), "fields": changed}
    log = [*current.get("changeLog", []), entry][-HISTORY_LENGTH:]
    ever = bool(current.get("everShared")) or shared_with_family(document)
    return {**document, "changeLog": log, "everShared": ever}


def changed_since(document: Mapping[str, Any], base_version: str) -> set[str] | None:
    """Fields changed since ``base_version``, or None when that version is not remembered."""
    log = list(document.get("changeLog", []))
    for index, entry in enumerate(log):
        if entry.get("base") == base_version:
            return {name for later in log[index:] for name in later.get("fields", [])}
    return None


@dataclass(frozen=True)
class QueryPage:
    items: list[dict[str, Any]]
    continuation: str | None


def first_page(
    container: ContainerProxy,
    query: str,
    parameters: list[dict[str, Any]],
    partition_key: str | None,
    limit: int,
    continuation: str | None,
) -> QueryPage:
    """One page of a query (across partitions when ``partition_key`` is None); empty pages
    with more to come are skipped."""
    scope: dict[str, Any] = (
        {"enable_cross_partition_query": True}
        if partition_key is None
        else {"partition_key": partition_key}
    )
    pager: Any = container.query_items(
        query, parameters=parameters, max_item_count=limit, **scope
    ).by_page(continuation)
    items: list[dict[str, Any]] = []
    for page in pager:
        items = list(page)
        if items:
            break
    return QueryPage(items, pager.continuation_token if items else None)


class RecordStore:
    def __init__(self, database: DatabaseProxy) -> None:
        self._container: ContainerProxy = database.get_container_client(RECORDS.name)

    def read(self, family_id: str, record_id: str) -> dict[str, Any] | None:
        from azure.cosmos.exceptions import CosmosResourceNotFoundError

        try:
            document: dict[str, Any] = self._container.read_item(record_id, family_id)
        except CosmosResourceNotFoundError:
            return None
        return document

    def create(self, document: dict[str, Any]) -> dict[str, Any]:
        from azure.cosmos.exceptions import CosmosResourceExistsError

        try:
            created: dict[str, Any] = self._container.create_item(document)
        except CosmosResourceExistsError:
            raise AlreadyExistsError(self.read(document["familyId"], document["id"])) from None
        return created

    def replace(self, document: dict[str, Any], etag: str) -> dict[str, Any]:
        from azure.core import MatchConditions
        from azure.cosmos.exceptions import CosmosAccessConditionFailedError

        body = {k: v for k, v in document.items() if k not in SYSTEM_FIELDS}
        try:
            replaced: dict[str, Any] = self._container.replace_item(
                document["id"], body, etag=etag, match_condition=MatchConditions.IfNotModified
            )
        except CosmosAccessConditionFailedError:
            raise VersionMismatchError(self.read(document["familyId"], document["id"])) from None
        return replaced

    def query_page(
        self,
        family_id: str,
        where: str,
        parameters: Mapping[str, Any],
        order: str,
        limit: int,
        continuation: str | None,
    ) -> QueryPage:
        query = f"SELECT * FROM c WHERE c.familyId = @familyId AND ({where}) ORDER BY {order}"  # noqa: S608
        params = [{"name": "@familyId", "value": family_id}]
        params += [{"name": name, "value": value} for name, value in parameters.items()]
        return first_page(self._container, query, params, family_id, limit, continuation)

    def query_all(
        self, query: str, parameters: Mapping[str, Any], family_id: str | None = None
    ) -> list[dict[str, Any]]:
        params = [{"name": name, "value": value} for name, value in parameters.items()]
        if family_id is None:
            rows = self._container.query_items(
                query, parameters=params, enable_cross_partition_query=True
            )
        else:
            rows = self._container.query_items(query, parameters=params, partition_key=family_id)
        return [dict(row) if isinstance(row, dict) else row for row in rows]
