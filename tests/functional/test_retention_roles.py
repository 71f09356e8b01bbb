"""Retention fields are set by a manager of the family, through REST and not through sync.

``retentionClass``, ``closedAt``, ``adoptionOrderAt`` and ``legalHold`` decide when a family is
disposed of. Only a manager of the family (the head of service, or a team manager of the
family's team) sets them; anyone else who can see the family gets a 403 naming the fields.
Fields the server owns (``retainUntil``, ``deleted``, ``version``, ...) are nobody's to write.
"""

from __future__ import annotations

from typing import Any

import pytest

from local.emulators import Emulators
from shared.bootstrap import get_runtime
from tests.functional.roles import (
    FAMILY_MEMBERS_MAY_NOT,
    assert_forbidden_fields,
    assert_invalid,
    new_family,
    stored,
)
from tests.functional.world import World, uid


@pytest.fixture(autouse=True)
def clean_environment(one_instance: None) -> None:
    """The module's requests share one runtime (``one_instance``): no test changes a setting."""


@pytest.fixture
def stack(emulators: Emulators, one_instance: None) -> Emulators:
    return emulators


RETENTION_VALUES: dict[str, Any] = {
    "retentionClass": "child-in-need",
    "closedAt": "2020-01-01T00:00:00Z",
    "adoptionOrderAt": "1990-01-01T00:00:00Z",
}


@pytest.mark.parametrize("field", sorted(RETENTION_VALUES))
def test_a_social_worker_may_not_create_a_family_with_retention_fields(
    world: World, stack: Emulators, field: str
) -> None:
    family_id = uid()
    body = {"id": family_id, "displayName": "Early", "teamId": world.team_a}
    refused = world.api.post(
        "/families", world.token("social_worker"), {**body, field: RETENTION_VALUES[field]}
    )
    assert_forbidden_fields(refused, field)
    assert get_runtime().records.read(family_id, family_id) is None


@pytest.mark.parametrize("field", sorted(RETENTION_VALUES))
def test_a_social_worker_may_not_change_retention_fields(
    world: World, stack: Emulators, field: str
) -> None:
    family_id = new_family(world, "social_worker")
    before = stored(family_id)
    refused = world.api.patch(
        f"/families/{family_id}", world.token("social_worker"), {field: RETENTION_VALUES[field]}
    )
    assert_forbidden_fields(refused, field)
    assert stored(family_id)["_etag"] == before["_etag"]


def test_a_social_worker_cannot_drive_retain_until_into_the_past(
    world: World, stack: Emulators
) -> None:
    family_id = new_family(world, "social_worker")
    refused = world.api.patch(
        f"/families/{family_id}",
        world.token("social_worker"),
        {"retentionClass": "default", "closedAt": "1990-01-01T00:00:00Z"},
    )
    assert_forbidden_fields(refused, "retentionClass", "closedAt")
    after = stored(family_id)
    assert after.get("retainUntil") is None
    assert "closedAt" not in after


@pytest.mark.parametrize("role", ["team_manager", "head_of_service"])
@pytest.mark.parametrize("field", sorted(RETENTION_VALUES))
def test_managers_change_retention_fields(
    world: World, stack: Emulators, role: str, field: str
) -> None:
    family_id = new_family(world, "social_worker")
    changed = world.api.patch(
        f"/families/{family_id}", world.token(role), {field: RETENTION_VALUES[field]}
    )
    assert changed.status == 200, changed.body
    assert str(stored(family_id)[field])[:10] == RETENTION_VALUES[field][:10]


def test_a_team_manager_creates_a_family_with_retention_fields(
    world: World, stack: Emulators
) -> None:
    made = world.api.post(
        "/families",
        world.token("team_manager"),
        {"displayName": "Closed", "teamId": world.team_a, **RETENTION_VALUES},
    )
    assert made.status == 201, made.body
    assert made.body["retentionClass"] == "child-in-need"


def test_family_members_may_not_change_the_family_record(world: World, stack: Emulators) -> None:
    for field, value in {**RETENTION_VALUES, "legalHold": False}.items():
        refused = world.api.patch(
            f"/families/{world.family}", world.token("family_member"), {field: value}
        )
        assert refused.status == 403, field


def test_a_social_worker_may_not_set_a_legal_hold(world: World, stack: Emulators) -> None:
    family_id = new_family(world, "social_worker")
    refused = world.api.patch(
        f"/families/{family_id}", world.token("social_worker"), {"legalHold": True}
    )
    assert_forbidden_fields(refused, "legalHold")
    assert stored(family_id)["legalHold"] is False


def test_a_team_manager_allocated_to_another_teams_family_acts_as_a_worker_there(
    world: World, stack: Emulators
) -> None:
    family_id = new_family(world, "social_worker")
    outsider = world.people["other_team_manager"]
    allocated = world.api.patch(
        f"/families/{family_id}",
        world.token("head_of_service"),
        {"workerIds": [world.people["social_worker"].oid, outsider.oid]},
    )
    assert allocated.status == 200, allocated.body
    path = f"/families/{family_id}"
    for field, value in {
        **RETENTION_VALUES,
        "legalHold": True,
        "workerIds": [outsider.oid],
        "teamId": world.team_b,
    }.items():
        assert_forbidden_fields(world.api.patch(path, outsider.token, {field: value}), field)
    renamed = world.api.patch(path, outsider.token, {"displayName": "Renamed"})
    assert renamed.status == 200, renamed.body


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("retainUntil", "2000-01-01"),
        ("retentionPending", []),
        ("deleted", True),
        ("version", "1"),
        ("createdBy", {"id": "x", "name": "x", "kind": "staff"}),
        ("updatedAt", "2000-01-01T00:00:00Z"),
        ("type", "note"),
        ("familyId", "00000000-0000-4000-8000-000000000000"),
        ("id", "00000000-0000-4000-8000-000000000000"),
    ],
)
@pytest.mark.parametrize("role", ["social_worker", "team_manager", "head_of_service"])
def test_no_role_writes_a_server_owned_family_field(
    world: World, stack: Emulators, field: str, value: Any, role: str
) -> None:
    family_id = new_family(world, "social_worker")
    before = stored(family_id)
    patched = world.api.patch(f"/families/{family_id}", world.token(role), {field: value})
    assert_invalid(patched, ["body", field], "extra_forbidden")
    assert stored(family_id)["_etag"] == before["_etag"]
    if field == "id" or role == "head_of_service":
        return
    created = world.api.post(
        "/families",
        world.token(role),
        {"displayName": "Owned", "teamId": world.team_a, field: value},
    )
    assert_invalid(created, ["body", field], "extra_forbidden")


def test_a_family_member_may_not_approve_a_transcript(world: World, stack: Emulators) -> None:
    media = world.api.post(
        f"/families/{world.family}/media",
        world.token("family_member"),
        {"kind": "audio", "contentType": "audio/mpeg", "sizeBytes": 100},
    )
    assert media.status == 201, media.body
    refused = world.api.patch(
        f"/families/{world.family}/media/{media.body['id']}",
        world.token("family_member"),
        {"transcriptApproved": True},
    )
    assert_forbidden_fields(refused, "transcriptApproved", detail=FAMILY_MEMBERS_MAY_NOT)


def test_a_family_member_may_not_set_visibility(world: World, stack: Emulators) -> None:
    refused = world.api.post(
        f"/families/{world.family}/notes",
        world.token("family_member"),
        {"body": "Ours", "visibility": "professionals"},
    )
    assert_forbidden_fields(refused, "visibility", detail=FAMILY_MEMBERS_MAY_NOT)


def test_a_family_member_may_not_set_a_members_retention_dates(
    world: World, stack: Emulators
) -> None:
    refused = world.api.patch(
        f"/families/{world.family}/members/{world.member_self}",
        world.token("family_member"),
        {"dateOfBirth": "1950-01-01", "smsReminders": True},
    )
    assert_forbidden_fields(refused, "dateOfBirth", detail=FAMILY_MEMBERS_MAY_NOT)


@pytest.mark.parametrize("action", ["create", "update"])
@pytest.mark.parametrize("record_type", ["family", "member"])
def test_families_and_members_cannot_be_pushed_through_sync(
    world: World, stack: Emulators, action: str, record_type: str
) -> None:
    family_id = new_family(world, "social_worker")
    before = stored(family_id)
    data = {"retentionClass": "default", "closedAt": "1990-01-01T00:00:00Z", "displayName": "X"}
    pushed = world.api.post(
        "/sync",
        world.token("social_worker"),
        {
            "operations": [
                {
                    "opId": uid(),
                    "type": record_type,
                    "action": action,
                    "id": family_id,
                    "familyId": family_id,
                    "baseVersion": before["_etag"].strip('"'),
                    "data": data,
                }
            ]
        },
    )
    assert pushed.status == 200, pushed.body
    (result,) = pushed.body["results"]
    assert result["status"] == "rejected"
    assert result["problem"]["status"] == 422
    assert stored(family_id)["_etag"] == before["_etag"]
