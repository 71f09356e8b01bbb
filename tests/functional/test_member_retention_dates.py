"""Members' dates decide retention too: only a manager may bring a family's disposal near.

For looked-after and child-in-need families, ``retainUntil`` follows the children's
``dateOfBirth``, ``dateOfDeath`` and ``child`` flag. A change by someone who is not a manager of
the family (a social worker) may not bring ``retainUntil`` earlier than it was (a family with no
date yet counts as kept for ever) to a date less than ``RETENTION_DEFAULT_YEARS`` away.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from local.emulators import Emulators
from shared.retention.rules import add_years
from tests.functional.roles import new_family, stored
from tests.functional.world import World

TODAY = datetime.now(UTC).date()


def looked_after_family(world: World, born: date | None) -> tuple[str, str | None]:
    """A looked-after family (set by its manager) allocated to the social worker, with one
    child born on ``born`` when given."""
    family_id = new_family(
        world,
        retentionClass="looked-after",
        workerIds=[world.people["social_worker"].oid],
    )
    if born is None:
        return family_id, None
    child = world.api.post(
        f"/families/{family_id}/members",
        world.token("social_worker"),
        {"displayName": "Ash", "relationship": "son", "child": True, "dateOfBirth": str(born)},
    )
    assert child.status == 201, child.body
    return family_id, str(child.body["id"])


def years_ago(years: int) -> date:
    return add_years(TODAY, -years)


def test_a_social_worker_may_not_bring_disposal_near_through_a_childs_birth_date(
    world: World, stack: Emulators
) -> None:
    family_id, child = looked_after_family(world, years_ago(8))
    kept = stored(family_id)["retainUntil"]
    path = f"/families/{family_id}/members/{child}"
    refused = world.api.patch(path, world.token("social_worker"), {"dateOfBirth": "1940-01-01"})
    assert refused.status == 403, refused.body
    assert refused.body["errors"] == [{"loc": ["body", "dateOfBirth"], "type": "forbidden_field"}]
    assert stored(family_id)["retainUntil"] == kept
    corrected = world.api.patch(
        path, world.token("social_worker"), {"dateOfBirth": str(years_ago(9))}
    )
    assert corrected.status == 200, corrected.body
    managed = world.api.patch(path, world.token("team_manager"), {"dateOfBirth": "1940-01-01"})
    assert managed.status == 200, managed.body
    assert stored(family_id)["retainUntil"] == "2015-01-01"


def test_a_social_worker_may_not_bring_disposal_near_by_unmarking_a_child(
    world: World, stack: Emulators
) -> None:
    family_id, young = looked_after_family(world, years_ago(8))
    older = world.api.post(
        f"/families/{family_id}/members",
        world.token("social_worker"),
        {"displayName": "Old", "relationship": "son", "child": True, "dateOfBirth": "1940-01-01"},
    )
    assert older.status == 201, older.body
    kept = stored(family_id)["retainUntil"]
    for change in ({"child": False}, {"dateOfDeath": str(years_ago(1))}):
        refused = world.api.patch(
            f"/families/{family_id}/members/{young}", world.token("social_worker"), change
        )
        assert refused.status == 403, (change, refused.body)
    assert stored(family_id)["retainUntil"] == kept


def test_a_social_worker_may_not_add_a_first_child_that_makes_the_family_due(
    world: World, stack: Emulators
) -> None:
    family_id, _ = looked_after_family(world, None)
    members = f"/families/{family_id}/members"
    body = {"displayName": "Old", "relationship": "son", "child": True}
    refused = world.api.post(
        members, world.token("social_worker"), {**body, "dateOfBirth": "1940-01-01"}
    )
    assert refused.status == 403, refused.body
    assert stored(family_id).get("retainUntil") is None
    added = world.api.post(
        members, world.token("social_worker"), {**body, "dateOfBirth": str(years_ago(3))}
    )
    assert added.status == 201, added.body
    assert stored(family_id)["retainUntil"] == str(add_years(years_ago(3), 75))
