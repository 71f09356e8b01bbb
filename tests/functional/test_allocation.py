"""Allocation names known staff of the family's team; only the head of service crosses teams.

- A social worker creates families in their own teams and is their only worker: naming
  ``workerIds`` at all is a 403. Changing ``teamId`` or ``workerIds`` is a manager's (403).
- Every id in ``workerIds`` must be a member of staff in the directory, else 422 at
  ``["body", "workerIds", i]`` (``unknown_staff``).
- A team manager allocates staff of the family's team (another team's: 403, ``other_team``;
  workers already allocated may stay) and moves a family only between teams they manage.
- The head of service allocates any known staff and moves a family to any team some member of
  staff belongs to (else 422 at ``["body", "teamId"]``, ``unknown_team``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from local.emulators import Emulators
from shared.bootstrap import get_runtime
from tests.functional.roles import assert_forbidden_fields, assert_invalid, new_family, stored
from tests.functional.world import Person, World, staff, uid

MOVE_REFUSED = "Only the head of service may move a family to a team you do not manage."


@dataclass
class Extra:
    """Staff beyond the shared world: another team's worker, a manager of two teams, a team
    nobody else uses."""

    team_c: str
    team_b_worker: Person
    two_team_manager: Person


@pytest.fixture(scope="module")
def extra(world: World) -> Extra:
    team_c = uid()
    return Extra(
        team_c,
        staff("SocialWorker", "Bo Other", [world.team_b]),
        staff("TeamManager", "Di Both", [world.team_a, team_c]),
    )


def test_a_social_worker_creating_a_family_is_its_only_worker(
    world: World, stack: Emulators
) -> None:
    sw = world.people["social_worker"]
    made = world.api.post("/families", sw.token, {"displayName": "Mine", "teamId": world.team_a})
    assert made.status == 201, made.body
    assert made.body["workerIds"] == [sw.oid]


def test_an_empty_worker_list_is_the_documents_default_and_names_nobody(
    world: World, stack: Emulators
) -> None:
    """``workerIds: []`` is the default the OpenAPI document declares (generated clients send
    it): it means what leaving it out means, so the creator is the family's worker."""
    sw = world.people["social_worker"]
    made = world.api.post(
        "/families", sw.token, {"displayName": "Named", "teamId": world.team_a, "workerIds": []}
    )
    assert made.status == 201, made.body
    assert made.body["workerIds"] == [sw.oid]


@pytest.mark.parametrize("named", ["themself", "team_colleague", "other_team_worker", "unknown"])
def test_a_social_worker_may_not_name_workers_when_creating_a_family(
    world: World, stack: Emulators, extra: Extra, named: str
) -> None:
    ids = {
        "themself": [world.people["social_worker"].oid],
        "team_colleague": [world.people["other_social_worker"].oid],
        "other_team_worker": [extra.team_b_worker.oid],
        "unknown": [uid()],
    }[named]
    family_id = uid()
    refused = world.api.post(
        "/families",
        world.token("social_worker"),
        {"id": family_id, "displayName": "Named", "teamId": world.team_a, "workerIds": ids},
    )
    assert_forbidden_fields(refused, "workerIds")
    assert get_runtime().records.read(family_id, family_id) is None
    if named == "other_team_worker":
        assert world.api.get(f"/families/{family_id}", extra.team_b_worker.token).status == 404


@pytest.mark.parametrize("role", ["social_worker", "team_manager"])
def test_a_family_is_created_only_in_the_creators_own_team(
    world: World, stack: Emulators, role: str
) -> None:
    for team in (world.team_b, "no-such-team"):
        refused = world.api.post(
            "/families", world.token(role), {"displayName": "Elsewhere", "teamId": team}
        )
        assert refused.status == 403, refused.body


def test_the_head_of_service_and_admin_do_not_create_families(
    world: World, stack: Emulators
) -> None:
    for role in ("head_of_service", "admin"):
        refused = world.api.post(
            "/families", world.token(role), {"displayName": "Top", "teamId": world.team_a}
        )
        assert refused.status == 403, role


def test_a_team_manager_allocates_staff_of_the_team_when_creating(
    world: World, stack: Emulators
) -> None:
    tm = world.people["team_manager"]
    workers = [world.people["social_worker"].oid, world.people["other_social_worker"].oid]
    made = world.api.post(
        "/families",
        tm.token,
        {"displayName": "Allocated", "teamId": world.team_a, "workerIds": workers},
    )
    assert made.status == 201, made.body
    assert made.body["workerIds"] == [*workers, tm.oid]


def test_a_team_manager_may_not_allocate_unknown_staff_when_creating(
    world: World, stack: Emulators
) -> None:
    family_id = uid()
    known = world.people["social_worker"].oid
    refused = world.api.post(
        "/families",
        world.token("team_manager"),
        {
            "id": family_id,
            "displayName": "Ghost",
            "teamId": world.team_a,
            "workerIds": [known, uid()],
        },
    )
    assert_invalid(refused, ["body", "workerIds", 1], "unknown_staff")
    assert get_runtime().records.read(family_id, family_id) is None


def test_a_team_manager_may_not_allocate_another_teams_staff_when_creating(
    world: World, stack: Emulators, extra: Extra
) -> None:
    family_id = uid()
    refused = world.api.post(
        "/families",
        world.token("team_manager"),
        {
            "id": family_id,
            "displayName": "Borrowed",
            "teamId": world.team_a,
            "workerIds": [extra.team_b_worker.oid],
        },
    )
    assert refused.status == 403, refused.body
    assert refused.body["errors"] == [{"loc": ["body", "workerIds", 0], "type": "other_team"}]
    assert world.api.get(f"/families/{family_id}", extra.team_b_worker.token).status == 404


@pytest.mark.parametrize("field", ["workerIds", "teamId"])
def test_a_social_worker_may_not_change_allocation(
    world: World, stack: Emulators, extra: Extra, field: str
) -> None:
    family_id = new_family(world, "social_worker")
    value = [extra.team_b_worker.oid] if field == "workerIds" else world.team_b
    refused = world.api.patch(
        f"/families/{family_id}", world.token("social_worker"), {field: value}
    )
    assert_forbidden_fields(refused, field)


def test_a_team_manager_reallocates_within_the_team(world: World, stack: Emulators) -> None:
    family_id = new_family(world, "social_worker")
    other = world.people["other_social_worker"]
    changed = world.api.patch(
        f"/families/{family_id}", world.token("team_manager"), {"workerIds": [other.oid]}
    )
    assert changed.status == 200, changed.body
    assert changed.body["workerIds"] == [other.oid]
    assert world.api.get(f"/families/{family_id}", other.token).status == 200


@pytest.mark.parametrize("role", ["team_manager", "head_of_service"])
def test_nobody_allocates_unknown_staff(world: World, stack: Emulators, role: str) -> None:
    family_id = new_family(world, "social_worker")
    family_member = world.people["family_member"].oid
    for ids, index in (([uid()], 0), ([world.people["social_worker"].oid, family_member], 1)):
        refused = world.api.patch(f"/families/{family_id}", world.token(role), {"workerIds": ids})
        assert_invalid(refused, ["body", "workerIds", index], "unknown_staff")
    assert stored(family_id)["workerIds"] == [world.people["social_worker"].oid]


def test_a_team_manager_may_not_allocate_another_teams_staff(
    world: World, stack: Emulators, extra: Extra
) -> None:
    family_id = new_family(world, "social_worker")
    for outsider in (
        extra.team_b_worker,
        world.people["other_team_manager"],
        world.people["admin"],
    ):
        refused = world.api.patch(
            f"/families/{family_id}", world.token("team_manager"), {"workerIds": [outsider.oid]}
        )
        assert refused.status == 403, refused.body
        assert refused.body["errors"] == [{"loc": ["body", "workerIds", 0], "type": "other_team"}]
        assert world.api.get(f"/families/{family_id}", outsider.token).status == 404


def test_a_team_manager_keeps_workers_the_head_of_service_allocated(
    world: World, stack: Emulators, extra: Extra
) -> None:
    family_id = new_family(world, "social_worker")
    sw, outsider = world.people["social_worker"], extra.team_b_worker
    crossed = world.api.patch(
        f"/families/{family_id}",
        world.token("head_of_service"),
        {"workerIds": [sw.oid, outsider.oid]},
    )
    assert crossed.status == 200, crossed.body
    assert world.api.get(f"/families/{family_id}", outsider.token).status == 200
    kept = world.api.patch(
        f"/families/{family_id}", world.token("team_manager"), {"workerIds": [outsider.oid]}
    )
    assert kept.status == 200, kept.body
    assert kept.body["workerIds"] == [outsider.oid]


@pytest.mark.parametrize("team", ["team_b", "unknown"])
def test_a_team_manager_may_not_move_a_family_out_of_their_teams(
    world: World, stack: Emulators, team: str
) -> None:
    family_id = new_family(world, "social_worker")
    target = world.team_b if team == "team_b" else "no-such-team"
    refused = world.api.patch(
        f"/families/{family_id}", world.token("team_manager"), {"teamId": target}
    )
    assert refused.status == 403, refused.body
    assert refused.body["detail"] == MOVE_REFUSED
    assert refused.body["errors"] == [{"loc": ["body", "teamId"], "type": "other_team"}]
    assert stored(family_id)["teamId"] == world.team_a
    assert world.api.get(f"/families/{family_id}", world.token("other_team_manager")).status == 404


def test_a_team_manager_of_two_teams_moves_a_family_between_them(
    world: World, stack: Emulators, extra: Extra
) -> None:
    family_id = new_family(world, "social_worker")
    moved = world.api.patch(
        f"/families/{family_id}", extra.two_team_manager.token, {"teamId": extra.team_c}
    )
    assert moved.status == 200, moved.body
    assert moved.body["teamId"] == extra.team_c
    assert world.api.get(f"/families/{family_id}", world.token("team_manager")).status == 404


def test_a_move_checks_the_workers_against_the_new_team(
    world: World, stack: Emulators, extra: Extra
) -> None:
    family_id = new_family(world, "social_worker")
    refused = world.api.patch(
        f"/families/{family_id}",
        extra.two_team_manager.token,
        {"teamId": extra.team_c, "workerIds": [world.people["other_social_worker"].oid]},
    )
    assert refused.status == 403, refused.body
    assert refused.body["errors"] == [{"loc": ["body", "workerIds", 0], "type": "other_team"}]
    assert stored(family_id)["teamId"] == world.team_a


def test_the_head_of_service_moves_a_family_and_allocates_across_teams(
    world: World, stack: Emulators, extra: Extra
) -> None:
    family_id = new_family(world, "social_worker")
    moved = world.api.patch(
        f"/families/{family_id}",
        world.token("head_of_service"),
        {"teamId": world.team_b, "workerIds": [extra.team_b_worker.oid, world.people["admin"].oid]},
    )
    assert moved.status == 200, moved.body
    assert world.api.get(f"/families/{family_id}", world.token("other_team_manager")).status == 200
    assert world.api.get(f"/families/{family_id}", extra.team_b_worker.token).status == 200
    assert world.api.get(f"/families/{family_id}", world.token("team_manager")).status == 404


def test_the_head_of_service_moves_a_family_only_to_a_known_team(
    world: World, stack: Emulators
) -> None:
    family_id = new_family(world, "social_worker")
    refused = world.api.patch(
        f"/families/{family_id}", world.token("head_of_service"), {"teamId": "no-such-team"}
    )
    assert_invalid(refused, ["body", "teamId"], "unknown_team")
    assert stored(family_id)["teamId"] == world.team_a


def test_staff_without_access_cannot_reach_allocation(world: World, stack: Emulators) -> None:
    family_id = new_family(world, "social_worker")
    for role in ("other_social_worker", "other_team_manager", "admin", "other_family_member"):
        refused = world.api.patch(
            f"/families/{family_id}", world.token(role), {"workerIds": [world.people[role].oid]}
        )
        assert refused.status == 404, role


def test_workers_change_on_a_family_recorded_without_a_team(world: World, stack: Emulators) -> None:
    family_id, sw = uid(), world.people["social_worker"]
    get_runtime().records.create(
        {
            "id": family_id,
            "familyId": family_id,
            "type": "family",
            "displayName": "Before teams",
            "workerIds": [sw.oid],
            "createdAt": "2020-01-01T00:00:00.000Z",
            "createdBy": {"id": sw.oid, "name": sw.name, "kind": "staff"},
            "updatedAt": "2020-01-01T00:00:00.000Z",
            "updatedBy": {"id": sw.oid, "name": sw.name, "kind": "staff"},
            "deleted": False,
        }
    )
    other = world.people["other_social_worker"].oid
    changed = world.api.patch(
        f"/families/{family_id}", world.token("head_of_service"), {"workerIds": [sw.oid, other]}
    )
    assert changed.status == 200, changed.body
    assert "teamId" not in stored(family_id)
