"""Allocation: the staff a family's workers may be, and the team it may belong to.

- Every id ``workerIds`` adds names a member of staff in the staff directory, else a 422 at its
  index (``unknown_staff``). Workers already allocated may stay.
- A team manager allocates staff of the family's team, else a 403 (``other_team``), and moves a
  family only between teams they manage (``shared.access.require_team_move``).
- The head of service allocates any member of staff, and moves a family to any team a member of
  staff belongs to: there is no list of teams but the directory, so a team nobody belongs to is
  unknown (422, ``unknown_team``), most likely a typing error that would strand the family.

Staff entries are read from the directory itself, not from the per-instance profile cache: a
member of staff who has just moved team is not allocated by what an instance remembers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.access import Caller, crosses_teams, require_team_move, require_team_staff
from shared.directory import staff_profile_id
from shared.errors import ValidationError
from shared.ports.runtime import Runtime


def check_allocation(
    runtime: Runtime,
    caller: Caller,
    team_id: str,
    worker_ids: Sequence[str],
    allocated: Sequence[str] = (),
) -> None:
    """Refuse ``worker_ids`` for a family of ``team_id`` naming anyone the caller may not add."""
    added = {index: oid for index, oid in enumerate(worker_ids) if oid not in allocated}
    entries = {index: staff_entry(runtime, oid) for index, oid in added.items()}
    unknown = sorted(index for index, entry in entries.items() if entry is None)
    if unknown:
        raise ValidationError(
            "Every worker must be a member of staff in the staff directory.",
            [{"loc": ["body", "workerIds", index], "type": "unknown_staff"} for index in unknown],
        )
    teams = {
        index: frozenset(entry.get("teamIds") or [])
        for index, entry in entries.items()
        if entry is not None
    }
    require_team_staff(caller, team_id, teams)


def check_team(runtime: Runtime, caller: Caller, team_id: str) -> None:
    """Refuse moving a family to ``team_id`` unless the caller may, and someone belongs to it."""
    require_team_move(caller, team_id)
    if crosses_teams(caller) and not team_known(runtime, team_id):
        raise ValidationError.at(
            ("body", "teamId"), "unknown_team", "No member of staff belongs to this team."
        )


def staff_entry(runtime: Runtime, oid: str) -> dict[str, Any] | None:
    entry = runtime.directory.read(staff_profile_id(runtime.settings.staff_tenant_id, oid))
    return entry if entry is not None and entry.get("type") == "staff" else None


def team_known(runtime: Runtime, team_id: str) -> bool:
    return runtime.directory.team_has_staff(team_id)
