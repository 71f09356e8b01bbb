"""Keep a family's stored ``retainUntil`` in step with the dates it depends on.

``retainUntil`` and ``retentionPending`` are stored on the family document so the disposal run
finds due families with one indexed query instead of reading every family's members. They are
recomputed when a family's retention fields change (``retentionClass``, ``closedAt``,
``adoptionOrderAt``) and when a member's ``child``, ``dateOfBirth`` or ``dateOfDeath`` changes:
one query for the members and one conditional replace of the family, only on those writes. The
disposal run computes it again from the current data before it acts, so a stored value that
is stale can delay a disposal but never bring one forward.

Members' dates are written by social workers, so ``brings_disposal_near`` lets the member
services refuse a change by anyone but a manager of the family that would keep its records for
less time than now and end within ``RETENTION_DEFAULT_YEARS`` of today: otherwise a made-up
date of birth would have the disposal run destroy the family.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.ports.errors import VersionMismatchError
from shared.ports.runtime import Runtime
from shared.records.family_access import forget_family
from shared.retention.rules import Retention, add_years, brings_forward, retention_for

FAMILY_FIELDS = frozenset({"retentionClass", "closedAt", "adoptionOrderAt"})
MEMBER_FIELDS = frozenset({"child", "dateOfBirth", "dateOfDeath"})
REFRESH_RETRIES = 5


def retention(runtime: Runtime, family: Mapping[str, Any]) -> Retention:
    members = runtime.records.members(str(family["id"]))
    return retention_for(family, members, runtime.settings.retention_default_years)


def brings_disposal_near(
    runtime: Runtime, family: Mapping[str, Any], member: Mapping[str, Any]
) -> bool:
    """Whether writing ``member`` (new or changed) would keep the family's records for less time
    than now, ending within ``RETENTION_DEFAULT_YEARS`` of today."""
    years = runtime.settings.retention_default_years
    members = runtime.records.members(str(family["id"]))
    before = retention_for(family, members, years).retain_until
    others = [m for m in members if m.get("id") != member.get("id")]
    after = retention_for(family, [*others, member], years).retain_until
    return brings_forward(before, after, add_years(runtime.clock().date(), years))


def refresh_retention(runtime: Runtime, family_id: str) -> None:
    """Recompute and store the family's retention after a member's dates changed."""
    for _ in range(REFRESH_RETRIES):
        family = runtime.records.read(family_id, family_id)
        if family is None or family.get("type") != "family" or family.get("deleted"):
            return
        fields = retention(runtime, family).fields()
        if all(family.get(name) == value for name, value in fields.items()):
            return
        try:
            runtime.records.replace({**family, **fields}, str(family["_etag"]))
        except VersionMismatchError:
            continue
        forget_family(runtime, family_id)
        return
