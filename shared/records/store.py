"""Record documents as stored: versions (the store's ETag), change history and timestamps.

The store itself is a port (``shared.ports.RecordStore``); these helpers are what every
service does with the documents it reads and writes.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

SYSTEM_FIELDS = ("_rid", "_self", "_attachments", "_ts", "_etag", "_lsn")
HISTORY_LENGTH = 20
UNTRACKED_FIELDS = frozenset(
    {
        *SYSTEM_FIELDS,
        "updatedAt",
        "updatedBy",
        "changeLog",
        "everShared",
        "everPartners",
        "requestHash",
    }
)
PARTNER_VISIBILITIES = ("partners", "family")


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


def shared_with_partners(document: Mapping[str, Any]) -> bool:
    """Whether partners (with the right scope) may see it: ``partners`` or ``family``."""
    return document.get("visibility") in PARTNER_VISIBILITIES


def ever_with_partners(document: Mapping[str, Any]) -> bool:
    """Whether partners may ever have seen it (a record shared with the family before partners
    existed says so with ``everShared`` alone)."""
    return bool(document.get("everPartners") or document.get("everShared"))


def with_history(current: Mapping[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """The new version, remembering which fields changed from which version (the last 20
    changes), and whether the family, or partners, have ever been able to see it."""
    changed = sorted(
        name
        for name in set(current) | set(document)
        if name not in UNTRACKED_FIELDS and current.get(name) != document.get(name)
    )
    entry = {"base": version_of(current), "fields": changed}
    log = [*current.get("changeLog", []), entry][-HISTORY_LENGTH:]
    ever = bool(current.get("everShared")) or shared_with_family(document)
    partners = ever_with_partners(current) or shared_with_partners(document)
    return {**document, "changeLog": log, "everShared": ever, "everPartners": partners}


def changed_since(document: Mapping[str, Any], base_version: str) -> set[str] | None:
    """Fields changed since ``base_version``, or None when that version is not remembered."""
    log = list(document.get("changeLog", []))
    for index, entry in enumerate(log):
        if entry.get("base") == base_version:
            return {name for later in log[index:] for name in later.get("fields", [])}
    return None
