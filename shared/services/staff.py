"""The staff directory, managed by Admin: display names, team membership, mobiles for alerts.

A ``PUT`` replaces the whole entry: a field left out, ``phone`` included, is removed.
"""

from __future__ import annotations

from typing import Any

from shared.access import Caller, require_role
from shared.directory import staff_profile_id
from shared.errors import NotFoundError
from shared.ids import canonical_id
from shared.opaque import sealed_page
from shared.ports.runtime import Runtime
from shared.records.models import StaffIn, StaffOut
from shared.records.service import Listed
from shared.records.store import now_iso, version_of


def present_staff(document: dict[str, Any]) -> dict[str, Any]:
    shaped = StaffOut.model_validate({**document, "version": version_of(document)})
    return shaped.model_dump(mode="json", by_alias=True, exclude_none=True)


def put_staff(
    runtime: Runtime, caller: Caller, oid: str, body: StaffIn
) -> tuple[dict[str, Any], bool]:
    require_role(caller, "Admin")
    canonical = canonical_id(oid)
    if canonical is None:
        raise NotFoundError("Staff object ids are UUIDs.")
    document_id = staff_profile_id(runtime.settings.staff_tenant_id, canonical)
    existed = runtime.directory.read(document_id) is not None
    document = {
        "id": document_id,
        "type": "staff",
        "oid": canonical,
        "displayName": body.display_name,
        "teamIds": sorted(set(body.team_ids)),
        "updatedAt": now_iso(runtime.clock()),
        "updatedBy": caller.actor,
    }
    if body.phone is not None:
        document["phone"] = body.phone
    stored = runtime.directory.upsert(document)
    with runtime.cache_lock:
        runtime.profile_cache.pop(document_id, None)
    return stored, not existed


def list_staff(runtime: Runtime, caller: Caller, limit: int, token: str | None) -> Listed:
    require_role(caller, "Admin")
    scope = f"staff|{caller.principal.key}"
    items, following = sealed_page(
        runtime.signer, scope, token, lambda after: runtime.directory.staff_page(limit, after)
    )
    return Listed(items, following)
