"""Offline sync against the real emulators: the five properties of the architecture."""

from __future__ import annotations

import random
import threading
import time
import uuid
from datetime import timedelta
from typing import Any

from local.emulators import Emulators
from shared.bootstrap import get_runtime
from shared.storage_layout import RECORDS
from tests.functional.api import InProcessApi
from tests.functional.world import World


def uid() -> str:
    return str(uuid.uuid4())


class Device:
    """A device's local copy, built only from pulls."""

    def __init__(self, api: InProcessApi, token: str | None) -> None:
        self.api = api
        self.token = token
        self.records: dict[tuple[str, str], dict[str, Any]] = {}
        self.since: str | None = None
        self.pulled: list[dict[str, Any]] = []

    def pull(self, limit: int = 500) -> None:
        while True:
            params = {"limit": str(limit), **({"since": self.since} if self.since else {})}
            response = self.api.get("/sync", self.token, params=params)
            assert response.status == 200, response.body
            for change in response.body["changes"]:
                self.pulled.append(change)
                key = (change["type"], change["id"])
                if change["deleted"]:
                    self.records.pop(key, None)
                else:
                    self.records[key] = change
            self.since = response.body["next"]
            if not response.body["more"]:
                return

    def ids(self, record_type: str) -> set[str]:
        return {rid for (kind, rid) in self.records if kind == record_type}


def push(world: World, role: str, *operations: dict[str, Any]) -> list[dict[str, Any]]:
    response = world.api.post("/sync", world.token(role), {"operations": list(operations)})
    assert response.status == 200, response.body
    return list(response.body["results"])


def note_op(world: World, note_id: str, action: str = "create", **fields: Any) -> dict[str, Any]:
    op: dict[str, Any] = {
        "opId": uid(),
        "type": "note",
        "action": action,
        "id": note_id,
        "familyId": world.family,
    }
    op.update(fields)
    return op


def test_snapshot_then_delta_carries_creates_updates_and_deletes(
    world: World, stack: Emulators
) -> None:
    device = Device(world.api, world.token("social_worker"))
    device.pull(limit=3)
    assert world.records["note_professionals"] in device.ids("note")
    assert world.family in device.ids("family")
    note = world.api.post(
        f"/families/{world.family}/notes",
        world.token("team_manager"),
        {"body": "New on the server"},
    )
    device.pull()
    assert device.records[("note", note.body["id"])]["data"]["body"] == "New on the server"
    path = f"/families/{world.family}/notes/{note.body['id']}"
    world.api.patch(path, world.token("team_manager"), {"body": "Edited"})
    device.pull()
    assert device.records[("note", note.body["id"])]["data"]["body"] == "Edited"
    world.api.delete(path, world.token("team_manager"))
    device.pull()
    assert ("note", note.body["id"]) not in device.records


def test_a_delta_sends_the_change_and_only_re_sends_known_versions(
    world: World, stack: Emulators
) -> None:
    device = Device(world.api, world.token("social_worker"))
    device.pull()
    held = {(c["id"], c["version"]) for c in device.pulled}
    device.pulled.clear()
    made = world.api.post(
        f"/families/{world.family}/notes", world.token("social_worker"), {"body": "x"}
    )
    device.pull()
    new = [
        (c["id"], c["version"])
        for c in device.pulled
        if (c["id"], c["version"]) not in held and not c["deleted"]
    ]
    assert new == [(made.body["id"], made.body["version"])]


def test_family_device_never_receives_professionals_records(world: World, stack: Emulators) -> None:
    device = Device(world.api, world.token("family_member"))
    device.pull()
    assert world.records["note_family"] in device.ids("note")
    assert world.records["note_professionals"] not in device.ids("note")
    assert world.records["comment_professionals"] not in device.ids("comment")
    assert all(
        c["data"] is None or c["data"].get("visibility", "family") == "family"
        for c in device.pulled
    )
    never = {
        world.records[k]
        for k in (
            "note_professionals",
            "agenda_professionals",
            "plan_professionals",
            "comment_professionals",
        )
    }
    assert never.isdisjoint({c["id"] for c in device.pulled})
    phones = {c["data"].get("phone") for c in device.pulled if c["type"] == "member" and c["data"]}
    assert phones <= {"+447700900123", None}


def test_unshared_note_becomes_a_tombstone_and_its_contents_never_return(
    world: World, stack: Emulators
) -> None:
    shared = world.api.post(
        f"/families/{world.family}/notes",
        world.token("social_worker"),
        {"body": "Shared then withdrawn", "visibility": "family"},
    )
    device = Device(world.api, world.token("family_member"))
    device.pull()
    assert shared.body["id"] in device.ids("note")
    path = f"/families/{world.family}/notes/{shared.body['id']}"
    world.api.patch(path, world.token("social_worker"), {"visibility": "professionals"})
    world.api.patch(path, world.token("social_worker"), {"body": "Now staff only: secret"})
    device.pulled.clear()
    device.pull()
    assert shared.body["id"] not in device.ids("note")
    about = [c for c in device.pulled if c["id"] == shared.body["id"]]
    assert about
    assert all(c["deleted"] and c["data"] is None for c in about)
    device.pull()
    assert "secret" not in str(device.pulled)


def test_losing_a_family_tombstones_its_records(world: World, stack: Emulators) -> None:
    sw = world.people["other_social_worker"]
    family = world.api.post(
        "/families",
        world.token("team_manager"),
        {"displayName": "Short stay", "teamId": world.team_a, "workerIds": [sw.oid]},
    )
    family_id = family.body["id"]
    note = world.api.post(f"/families/{family_id}/notes", sw.token, {"body": "While allocated"})
    device = Device(world.api, sw.token)
    device.pull()
    assert note.body["id"] in device.ids("note")
    removed = world.api.patch(
        f"/families/{family_id}",
        world.token("team_manager"),
        {"workerIds": [world.people["team_manager"].oid]},
    )
    assert removed.status == 200
    get_runtime().family_cache.clear()
    device.pull()
    assert note.body["id"] not in device.ids("note")
    assert family_id not in device.ids("family")


def test_sync_tokens_are_bound_to_their_user_and_tamper_evident(
    world: World, stack: Emulators
) -> None:
    mine = world.api.get("/sync", world.token("social_worker"), params={"limit": "1"})
    token = mine.body["next"]
    assert (
        world.api.get("/sync", world.token("team_manager"), params={"since": token}).status == 400
    )
    body, _, mac = token.partition(".")
    forged = f"{body[:-1]}{'A' if body[-1] != 'A' else 'B'}.{mac}"
    assert (
        world.api.get("/sync", world.token("social_worker"), params={"since": forged}).status == 400
    )
    assert (
        world.api.get("/sync", world.token("social_worker"), params={"since": "x.y"}).status == 400
    )
    assert world.api.get("/sync", world.token("social_worker"), params={"limit": "0"}).status == 400


def test_a_token_older_than_the_tombstone_lifetime_is_410(world: World, stack: Emulators) -> None:
    first = world.api.get("/sync", world.token("social_worker"), params={"limit": "1000"})
    runtime = get_runtime()
    real_clock = runtime.clock
    runtime.clock = lambda: real_clock() + timedelta(days=runtime.settings.sync_tombstone_days + 1)
    try:
        late = world.api.get(
            "/sync", world.token("social_worker"), params={"since": first.body["next"]}
        )
    finally:
        runtime.clock = real_clock
    assert late.status == 410
    assert "full snapshot" in late.body["detail"]


def test_pushed_operations_apply_and_replays_return_the_first_outcome(
    world: World, stack: Emulators
) -> None:
    note_id = uid()
    create = note_op(world, note_id, data={"body": "Written offline"})
    first = push(world, "social_worker", create)
    assert first[0]["status"] == "applied"
    version = first[0]["version"]
    update = note_op(world, note_id, "update", baseVersion=version, data={"body": "Edited offline"})
    applied = push(world, "social_worker", update)
    assert applied[0]["status"] == "applied"
    world.api.patch(
        f"/families/{world.family}/notes/{note_id}",
        world.token("team_manager"),
        {"body": "Changed by the manager later"},
    )
    replay = push(world, "social_worker", create, update)
    assert replay == first + applied
    listed = world.api.get(
        f"/families/{world.family}/notes", world.token("social_worker"), params={"limit": "100"}
    )
    assert sum(1 for n in listed.body["items"] if n["id"] == note_id) == 1


def test_an_op_id_of_any_characters_applies_once(world: World, stack: Emulators) -> None:
    create = note_op(world, uid(), data={"body": "Odd op id"}, opId="a/b\\c?d#e ")
    first = push(world, "social_worker", create)
    assert first[0]["status"] == "applied"
    assert push(world, "social_worker", create) == first


def test_offline_edits_of_the_same_note_conflict_and_resolve(
    world: World, stack: Emulators
) -> None:
    note_id = uid()
    created = push(world, "social_worker", note_op(world, note_id, data={"body": "Original"}))
    base = created[0]["version"]
    first = push(
        world,
        "social_worker",
        note_op(world, note_id, "update", baseVersion=base, data={"body": "Device A"}),
    )
    assert first[0]["status"] == "applied"
    second = push(
        world,
        "team_manager",
        note_op(world, note_id, "update", baseVersion=base, data={"body": "Device B"}),
    )
    assert second[0]["status"] == "conflict"
    assert second[0]["conflicts"] == [{"field": "body", "yours": "Device B", "theirs": "Device A"}]
    assert second[0]["current"]["body"] == "Device A"
    stored = world.api.get(f"/families/{world.family}/notes/{note_id}", world.token("team_manager"))
    assert stored.body["body"] == "Device A"
    resolved = push(
        world,
        "team_manager",
        note_op(
            world,
            note_id,
            "update",
            baseVersion=second[0]["current"]["version"],
            data={"body": "Device A and B"},
        ),
    )
    assert resolved[0]["status"] == "applied"


def test_non_overlapping_offline_edits_merge(world: World, stack: Emulators) -> None:
    agenda_id = uid()
    made = push(
        world,
        "social_worker",
        {
            "opId": uid(),
            "type": "agenda",
            "action": "create",
            "id": agenda_id,
            "familyId": world.family,
            "data": {"title": "Before"},
        },
    )
    base = made[0]["version"]
    retitled = push(
        world,
        "social_worker",
        {
            "opId": uid(),
            "type": "agenda",
            "action": "update",
            "id": agenda_id,
            "familyId": world.family,
            "baseVersion": base,
            "data": {"title": "After"},
        },
    )
    assert retitled[0]["status"] == "applied"
    linked = push(
        world,
        "team_manager",
        {
            "opId": uid(),
            "type": "agenda",
            "action": "update",
            "id": agenda_id,
            "familyId": world.family,
            "baseVersion": base,
            "data": {"visitId": world.records["visit"]},
        },
    )
    assert linked[0]["status"] == "applied"
    stored = world.api.get(
        f"/families/{world.family}/agendas/{agenda_id}", world.token("team_manager")
    )
    assert (stored.body["title"], stored.body["visitId"]) == ("After", world.records["visit"])


def test_operations_are_independent_and_checked_like_rest(world: World, stack: Emulators) -> None:
    results = push(
        world,
        "family_member",
        note_op(world, uid(), data={"body": "From the family"}),
        note_op(world, uid(), data={"body": "Hidden", "visibility": "professionals"}),
        {
            "opId": uid(),
            "type": "visit",
            "action": "create",
            "id": uid(),
            "familyId": world.family,
            "data": {"startsAt": "2026-12-05T10:00:00Z", "endsAt": "2026-12-05T11:00:00Z"},
        },
        note_op(world, world.records["note_family"], "update", data={"body": "no base"}),
        {
            "opId": uid(),
            "type": "note",
            "action": "create",
            "id": uid(),
            "familyId": world.other_family,
            "data": {"body": "Not my family"},
        },
    )
    assert [r["status"] for r in results] == [
        "applied",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
    ]
    assert [r.get("problem", {}).get("status") for r in results] == [None, 403, 403, 422, 404]


def test_a_push_of_more_than_100_operations_is_422(world: World, stack: Emulators) -> None:
    operations = [note_op(world, uid(), data={"body": str(i)}) for i in range(101)]
    response = world.api.post("/sync", world.token("social_worker"), {"operations": operations})
    assert response.status == 422


def server_copy(world: World, family_ids: list[str]) -> dict[tuple[str, str], str]:
    container = get_runtime().database.get_container_client(RECORDS.name)
    rows = container.query_items(
        "SELECT c.id, c.type, c._etag FROM c WHERE ARRAY_CONTAINS(@f, c.familyId) "
        "AND c.deleted = false AND c.type IN "
        "('family','member','visit','agenda','note','plan','comment')",
        parameters=[{"name": "@f", "value": family_ids}],
        enable_cross_partition_query=True,
    )
    return {(r["type"], r["id"]): str(r["_etag"]).strip('"') for r in rows}


def test_a_device_pulling_during_racing_writes_ends_equal_to_the_server(
    api: InProcessApi, world: World, stack: Emulators
) -> None:
    sw = world.token("social_worker")
    families = [
        world.api.post("/families", sw, {"displayName": f"Race {i}", "teamId": world.team_a}).body[
            "id"
        ]
        for i in range(3)
    ]
    device = Device(api, sw)
    device.pull()
    stop = time.monotonic() + 6
    errors: list[Any] = []

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        mine: list[tuple[str, str]] = []
        while time.monotonic() < stop:
            family = rng.choice(families)
            if mine and rng.random() < 0.5:
                fam, note = rng.choice(mine)
                action = rng.choice(["patch", "patch", "delete"])
                path = f"/families/{fam}/notes/{note}"
                response = (
                    api.patch(path, sw, {"body": f"edit {rng.random()}"})
                    if action == "patch"
                    else api.delete(path, sw)
                )
                if action == "delete" and response.status == 204:
                    mine.remove((fam, note))
            else:
                response = api.post(f"/families/{family}/notes", sw, {"body": "race"})
                if response.status == 201:
                    mine.append((family, response.body["id"]))
            if response.status >= 500:
                errors.append(response.body)

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in (1, 2)]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        device.pull(limit=7)
        time.sleep(0.05)
    for thread in threads:
        thread.join()
    device.pull()
    assert errors == []
    server = server_copy(world, sorted(get_visible(world, sw)))
    local = {key: change["version"] for key, change in device.records.items()}
    assert local == server


def get_visible(world: World, token: str | None) -> set[str]:
    listed = world.api.get("/me", token)
    return set(listed.body["familyIds"])
