"""The staff directory at ``/staff``: a ``PUT`` replaces an entry, whose optional phone is a UK
mobile checked by the same rules as a family member's. Who may call it is in the access matrix.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from local.emulators import Emulators
from tests.functional.world import World


def uid() -> str:
    return str(uuid.uuid4())


def directory(world: World) -> dict[str, dict[str, Any]]:
    """Every entry, by oid, following ``next`` to the last page."""
    entries: dict[str, dict[str, Any]] = {}
    params = {"limit": "100"}
    while True:
        listed = world.api.get("/staff", world.token("admin"), params=params)
        assert listed.status == 200, listed.body
        entries.update((item["oid"], item) for item in listed.body["items"])
        if listed.body["next"] is None:
            return entries
        params = {"limit": "100", "next": listed.body["next"]}


def test_admin_manages_staff_and_nobody_else_does(world: World, stack: Emulators) -> None:
    oid = uid()
    body = {"displayName": "New Worker", "teamIds": [world.team_a]}
    assert world.api.put(f"/staff/{oid}", world.token("social_worker"), body).status == 403
    created = world.api.put(f"/staff/{oid}", world.token("admin"), body)
    assert created.status == 201
    assert created.body["teamIds"] == [world.team_a]
    assert world.api.put(f"/staff/{oid}", world.token("admin"), body).status == 200
    assert world.api.get("/staff", world.token("head_of_service")).status == 403
    assert directory(world)[oid]["displayName"] == "New Worker"


PHONES = [
    ("07700 900321", "+447700900321"),
    ("+44 7911 123456", "+447911123456"),
    ("0044 (0)7911-123-456", "+447911123456"),
    ("07624 123456", "+447624123456"),
    ("020 7946 0000", "phone_not_mobile"),
    ("0800 123 4567", "phone_not_mobile"),
    ("07911 12345", "phone_invalid"),
    ("+33 6 12 34 56 78", "phone_not_uk"),
    ("call me", "phone_unparsable"),
    ("", "phone_unparsable"),
    ("0" * 40, "string_too_long"),
]


@pytest.mark.parametrize(("typed", "outcome"), PHONES, ids=[typed for typed, _ in PHONES])
def test_a_staff_phone_is_accepted_or_refused_exactly_as_a_member_phone_is(
    world: World, stack: Emulators, typed: str, outcome: str
) -> None:
    staff = world.api.put(
        f"/staff/{uid()}", world.token("admin"), {"displayName": "Ro Green", "phone": typed}
    )
    member = world.api.post(
        f"/families/{world.family}/members",
        world.token("social_worker"),
        {"displayName": "Kit Jones", "relationship": "aunt", "phone": typed},
    )
    if outcome.startswith("+"):
        assert (staff.status, member.status) == (201, 201), (staff.body, member.body)
        assert staff.body["phone"] == member.body["phone"] == outcome
    else:
        assert (staff.status, member.status) == (422, 422)
        assert staff.body["errors"] == member.body["errors"]
        assert staff.body["errors"] == [{"loc": ["body", "phone"], "type": outcome}]
        assert typed.strip() not in str(staff.body) or not typed.strip()


def test_a_staff_phone_is_stored_in_e164_and_listed(world: World, stack: Emulators) -> None:
    oid = uid()
    body = {"displayName": "Ro Green", "teamIds": [world.team_a], "phone": "07700 900321"}

    created = world.api.put(f"/staff/{oid}", world.token("admin"), body)

    assert created.status == 201, created.body
    assert created.body["phone"] == "+447700900321"
    assert directory(world)[oid]["phone"] == "+447700900321"


@pytest.mark.parametrize("cleared", [{}, {"phone": None}], ids=["left-out", "null"])
def test_a_put_without_a_phone_removes_it_as_it_replaces_the_whole_entry(
    world: World, stack: Emulators, cleared: dict[str, Any]
) -> None:
    oid = uid()
    path = f"/staff/{oid}"
    admin = world.token("admin")
    entry = {"displayName": "Ro Green", "teamIds": [world.team_a]}
    assert world.api.put(path, admin, {**entry, "phone": "+447700900321"}).status == 201

    replaced = world.api.put(path, admin, {**entry, **cleared})

    assert replaced.status == 200, replaced.body
    assert "phone" not in replaced.body
    assert "phone" not in directory(world)[oid]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/admin/staff", None),
        ("PUT", "/admin/staff/{oid}", {"displayName": "Ro Green"}),
    ],
)
def test_the_old_admin_paths_are_gone_and_not_redirected(
    world: World, stack: Emulators, method: str, path: str, body: dict[str, Any] | None
) -> None:
    oid = uid()
    admin = world.token("admin")

    old = world.api.request(method, path.format(oid=oid), admin, body)
    new = world.api.request(method, path.removeprefix("/admin").format(oid=oid), admin, body)

    assert old.status == 404
    assert old.body["status"] == 404
    assert old.header("Location") is None
    assert new.status in (200, 201), new.body
