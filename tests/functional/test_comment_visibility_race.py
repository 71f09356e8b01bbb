"""A comment written while its target is un-shared takes the target's new visibility.

Found by the load run: a family member commented on a shared plan while a social worker
un-shared it; the un-share's cascade ran before the comment was stored, and the comment kept
``family`` on a ``professionals`` plan, so the family still saw it.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from local.emulators import Emulators
from shared.access import Caller
from shared.bootstrap import get_runtime
from shared.records.kinds import COMMENT, Kind
from shared.records.service import Created, RecordService
from tests.functional.world import World


@pytest.fixture
def unshare_before_comment_is_stored(world: World, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each comment create first un-shares its target (after the target was read, before the
    comment is stored): the interleaving the load run met."""
    original = RecordService.create
    targets: list[str] = []

    def create(
        self: RecordService, caller: Caller, kind: Kind, family_id: str, body: Any, **more: Any
    ) -> Created:
        extra = more.get("extra") or {}
        if kind is COMMENT and extra.get("targetId") in targets:
            hidden = world.api.patch(
                f"/families/{family_id}/plans/{extra['targetId']}",
                world.token("social_worker"),
                {"visibility": "professionals"},
            )
            assert hidden.status == 200, hidden.body
        return original(self, caller, kind, family_id, body, **more)

    monkeypatch.setattr(RecordService, "create", create)
    return targets


def shared_plan(world: World) -> dict[str, Any]:
    made = world.api.post(
        f"/families/{world.family}/plans",
        world.token("social_worker"),
        {"title": "Plan", "visibility": "family"},
    )
    assert made.status == 201, made.body
    return dict(made.body)


def test_a_comment_made_while_its_plan_is_unshared_is_hidden_from_the_family(
    world: World, stack: Emulators, unshare_before_comment_is_stored: list[str]
) -> None:
    plan = shared_plan(world)
    unshare_before_comment_is_stored.append(plan["id"])
    comments = f"/families/{world.family}/plans/{plan['id']}/comments"
    made = world.api.post(comments, world.token("family_member"), {"body": "Thanks"})
    assert made.status == 201, made.body

    stored = get_runtime().records.read(world.family, made.body["id"])
    assert stored is not None
    assert stored["visibility"] == "professionals"
    assert world.api.get(comments, world.token("family_member")).status == 404


def test_a_comment_pushed_while_its_plan_is_unshared_never_reaches_the_family(
    world: World, stack: Emulators, unshare_before_comment_is_stored: list[str]
) -> None:
    family = world.token("family_member")
    start = world.api.get("/sync", family)
    plan = shared_plan(world)
    unshare_before_comment_is_stored.append(plan["id"])
    operation = {
        "opId": f"race-{plan['id']}",
        "type": "comment",
        "action": "create",
        "id": str(uuid.uuid4()),
        "familyId": world.family,
        "data": {"targetType": "plans", "targetId": plan["id"], "body": "Sent later"},
    }
    pushed = world.api.post("/sync", family, {"operations": [operation]})
    assert pushed.body["results"][0]["status"] == "applied", pushed.body

    since, held = start.body["next"], set[str]()
    while True:
        page = world.api.get("/sync", family, params={"since": since}).body
        for change in page["changes"]:
            (held.discard if change["deleted"] else held.add)(change["id"])
        since = page["next"]
        if not page["more"]:
            break
    assert operation["id"] not in held
    assert plan["id"] not in held
