"""Helpers for the tests of who may set a family's retention and allocation."""

from __future__ import annotations

from typing import Any

from shared.bootstrap import get_runtime
from tests.functional.world import World

MANAGER_ONLY = "Only team managers and the head of service may set these fields."
FAMILY_MEMBERS_MAY_NOT = "Family members may not set these fields."


def new_family(world: World, role: str = "team_manager", **fields: Any) -> str:
    made = world.api.post(
        "/families",
        world.token(role),
        {"displayName": "Role test", "teamId": world.team_a, **fields},
    )
    assert made.status == 201, made.body
    return str(made.body["id"])


def stored(family_id: str) -> dict[str, Any]:
    document = get_runtime().records.read(family_id, family_id)
    assert document is not None
    return document


def assert_forbidden_fields(response: Any, *names: str, detail: str = MANAGER_ONLY) -> None:
    assert response.status == 403, response.body
    assert response.body["type"] == "urn:familystory:problem:forbidden"
    assert response.body["status"] == 403
    assert response.body["detail"] == detail
    assert response.body["errors"] == [
        {"loc": ["body", name], "type": "forbidden_field"} for name in sorted(names)
    ]


def assert_invalid(response: Any, loc: list[Any], kind: str) -> None:
    assert response.status == 422, response.body
    assert response.body["type"] == "urn:familystory:problem:validation"
    assert {"loc": loc, "type": kind} in response.body["errors"]
