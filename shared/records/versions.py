"""Corrections keep the original: earlier versions of a record, kept when the rule requires it.

A record becomes part of the child's record ("settled") once the family or a partner agency may
have seen it (``everShared``, ``everPartners``, or a kind the family always sees) or 24 hours after
it was created. Until
then it is a draft its author may still tidy up: an edit replaces it, and a deletion leaves a
tombstone whose content need not outlive its sync lifetime (``deletedAsDraft``). After that,
an edit first stores the version it replaces as a ``<type>Version`` document beside the record
(same family partition), so nothing that was part of the record is ever lost.

The version document is written before the record is replaced, with an id derived from the
record and the version it keeps: a retried or lost-race edit writes the same document again
(409, ignored), and a crash between the two writes loses nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from shared.access import ALWAYS_VISIBLE_TO_FAMILY
from shared.ports.errors import AlreadyExistsError
from shared.ports.records import RecordStore
from shared.records.store import SYSTEM_FIELDS, ever_with_partners, now_iso, version_of

SETTLE_AFTER = timedelta(hours=24)
NAMESPACE = uuid.UUID("0d3f9b1e-7c2a-5b84-a6e1-93c4f5d2e871")
NOT_KEPT = frozenset({*SYSTEM_FIELDS, "changeLog", "requestHash"})


def version_type(record_type: str) -> str:
    return f"{record_type}Version"


def settled(document: Mapping[str, Any], now: datetime) -> bool:
    """Whether the record is part of the child's record rather than a fresh draft."""
    if ever_with_partners(document) or document.get("type") in ALWAYS_VISIBLE_TO_FAMILY:
        return True
    created = datetime.fromisoformat(str(document["createdAt"]).replace("Z", "+00:00"))
    return now - created >= SETTLE_AFTER


def keep_version(
    store: RecordStore, current: Mapping[str, Any], actor: Mapping[str, str], now: datetime
) -> None:
    """Store ``current`` as a superseded version (idempotent)."""
    version = version_of(current)
    moment = now_iso(now)
    document = {
        "id": str(uuid.uuid5(NAMESPACE, f"{current['id']}:{version}")),
        "familyId": current["familyId"],
        "type": version_type(str(current["type"])),
        "recordId": current["id"],
        "recordType": current["type"],
        "recordVersion": version,
        "snapshot": {k: v for k, v in current.items() if k not in NOT_KEPT},
        "createdAt": moment,
        "createdBy": dict(actor),
        "deleted": False,
    }
    try:
        store.create(document)
    except AlreadyExistsError:
        return


def present_version(kind_out: Any, document: Mapping[str, Any]) -> dict[str, Any]:
    """A kept version as the record looked then, and when and by whom it was superseded."""
    snapshot = {**document["snapshot"], "version": document["recordVersion"]}
    shaped = kind_out.model_validate(snapshot).model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
    return {**shaped, "supersededAt": document["createdAt"], "supersededBy": document["createdBy"]}
