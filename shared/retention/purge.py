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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared.ports.records import RecordStore
    from shared.settings import Settings

MARGIN_SECONDS = 86_400


def purge_tombstones(records: RecordStore, settings: Settings, now: datetime) -> int:
    lifetime = settings.sync_tombstone_days * 86_400 + settings.sync_overlap_seconds
    cutoff = int(now.timestamp()) - lifetime - MARGIN_SECONDS
    held: dict[str, bool] = {}
    purged = 0
    for row in records.purgeable_tombstones(cutoff):
        family_id = str(row["familyId"])
        if family_id not in held:
            family = records.read(family_id, family_id)
            held[family_id] = family is None or bool(family.get("legalHold"))
        if held[family_id]:
            continue
        if records.delete(family_id, str(row["id"])):
            purged += 1
    return purged
