"""The staff directory at ``/staff``, where Azure can serve it. Who may call it is in the access
matrix.
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
