"""Sync tombstones past their lifetime are purged, unless their content is part of the record.

A deleted record stays as a tombstone (``deleted: true``) so that offline devices learn of the
deletion. Once the tombstone lifetime has passed (``SYNC_TOMBSTONE_DAYS``, plus the pull
overlap and a day's margin, measured on the server's ``_ts``), no device can still need it:
a device offline longer is refused (410) and starts again from a snapshot.

But a deleted record is usually still part of the child's record: the retention duty covers it,
the subject access export includes it for staff, and "corrections keep the original" would mean
little if deleting a note destroyed it. So only tombstones whose content need not be kept are
purged: those of records deleted while still a draft (``deletedAsDraft``: never seen by the
family and deleted within 24 hours of being written; see ``shared/records/versions.py``),
outside any family under legal hold. Every other tombstone keeps its content until its family
is disposed of, when it is destroyed with everything else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.composition import Runtime
from shared.storage_layout import RECORDS

MARGIN_SECONDS = 86_400
PAGE_SIZE = 100


def purge_tombstones(runtime: Runtime, now: datetime) -> int:
    from azure.cosmos.exceptions import CosmosResourceNotFoundError

    settings = runtime.settings
    lifetime = settings.sync_tombstone_days * 86_400 + settings.sync_overlap_seconds
    cutoff = int(now.timestamp()) - lifetime - MARGIN_SECONDS
    container = runtime.database.get_container_client(RECORDS.name)
    rows: Any = container.query_items(
        "SELECT c.id, c.familyId FROM c WHERE c.deleted = true AND c.deletedAsDraft = true "
        "AND c.type != 'family' AND c._ts < @cutoff",
        parameters=[{"name": "@cutoff", "value": cutoff}],
        enable_cross_partition_query=True,
        max_item_count=PAGE_SIZE,
    )
    held: dict[str, bool] = {}
    purged = 0
    for row in rows:
        family_id = str(row["familyId"])
        if family_id not in held:
            family = runtime.records.read(family_id, family_id)
            held[family_id] = family is None or bool(family.get("legalHold"))
        if held[family_id]:
            continue
        try:
            container.delete_item(row["id"], partition_key=family_id)
        except CosmosResourceNotFoundError:
            continue
        purged += 1
    return purged
