"""References between records (``visitId`` on notes, agendas and media, ``noteId`` on media)
name an existing, not deleted record of the right type in the same family that the caller can
see, and a record shared with the family refers only to what the family can see. Anything else
is one and the same 422 at the field, whether the id is another family's, deleted, hidden or
never existed: no oracle."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local.emulators import Emulators
from shared.bootstrap import get_runtime
from tests.functional.world import World, uid

PHOTO: dict[str, Any] = {"kind": "photo", "contentType": "image/jpeg", "sizeBytes": 1000}
VISIT_TIMES = {"startsAt": "2026-12-03T10:00:00Z", "endsAt": "2026-12-03T11:00:00Z"}


def path(world: World, collection: str, family_id: str | None = None) -> str:
    return f"/families/{family_id or world.family}/{collection}"


def made(world: World, collection: str, body: dict[str, Any], family_id: str | None = None) -> str:
    response = world.api.post(
        path(world, collection, family_id), world.token("social_worker"), body
    )
    assert response.status == 201, response.body
    return str(response.body["id"])


def new_visit(world: World, family_id: str | None = None) -> str:
    return made(world, "visits", VISIT_TIMES, family_id)


def deleted(world: World, collection: str, body: dict[str, Any]) -> str:
    record_id = made(world, collection, body)
    gone = world.api.delete(f"{path(world, collection)}/{record_id}", world.token("social_worker"))
    assert gone.status == 204
    return record_id


@pytest.fixture
def elsewhere(world: World, stack: Emulators) -> dict[str, str]:
    """Ids that are not a record of the right kind the caller may refer to in ``world.family``."""
    return {
        "other family's": new_visit(world, world.other_family),
        "deleted": deleted(world, "visits", VISIT_TIMES),
        "never existing": uid(),
        "wrong type": world.records["note_family"],
    }


def refused(response: Any, field: str) -> dict[str, Any]:
    assert response.status == 422, response.body
    assert [e["loc"] for e in response.body["errors"]] == [["body", field]]
    return dict(response.body)


@pytest.mark.parametrize("collection", ["notes", "agendas", "media"])
def test_visit_id_must_name_a_visit_of_this_family(
    world: World, elsewhere: dict[str, str], collection: str
) -> None:
    body: dict[str, dict[str, Any]] = {
        "notes": {"body": "On the visit"},
        "agendas": {"title": "Visit"},
        "media": PHOTO,
    }
    staff = world.token("social_worker")
    bodies = [
        refused(
            world.api.post(
                path(world, collection), staff, {**body[collection], "visitId": visit_id}
            ),
            "visitId",
        )
        for visit_id in elsewhere.values()
    ]
    assert all(b == bodies[0] for b in bodies), bodies

    record_id = made(world, collection, {**body[collection], "visitId": world.records["visit"]})
    if collection == "media":
        return  # a media record's references are set when its slot is issued, never patched
    record = f"{path(world, collection)}/{record_id}"
    for visit_id in elsewhere.values():
        patched = world.api.patch(record, staff, {"visitId": visit_id})
        assert refused(patched, "visitId") == bodies[0]
    moved = world.api.patch(record, staff, {"visitId": new_visit(world)})
    assert moved.status == 200, moved.body


def test_note_id_on_media_must_name_a_note_of_this_family(
    world: World, elsewhere: dict[str, str]
) -> None:
    other_note = made(
        world, "notes", {"body": "Theirs", "visibility": "family"}, world.other_family
    )
    ids = [
        other_note,
        deleted(world, "notes", {"body": "Gone"}),
        elsewhere["never existing"],
        world.records["visit"],
    ]
    staff = world.token("social_worker")
    bodies = [
        refused(world.api.post(path(world, "media"), staff, {**PHOTO, "noteId": note_id}), "noteId")
        for note_id in ids
    ]
    assert all(b == bodies[0] for b in bodies), bodies
    assert made(world, "media", {**PHOTO, "noteId": world.records["note_professionals"]})


def test_a_family_member_cannot_refer_to_what_they_cannot_see(
    world: World, elsewhere: dict[str, str]
) -> None:
    family = world.token("family_member")
    media = path(world, "media")
    hidden = world.api.post(media, family, {**PHOTO, "noteId": world.records["note_professionals"]})
    missing = world.api.post(media, family, {**PHOTO, "noteId": elsewhere["never existing"]})
    assert refused(hidden, "noteId") == refused(missing, "noteId")

    foreign = world.api.post(
        path(world, "notes"), family, {"body": "Ours", "visitId": elsewhere["other family's"]}
    )
    assert refused(foreign, "visitId") == refused(
        world.api.post(path(world, "notes"), family, {"body": "Ours", "visitId": uid()}), "visitId"
    )

    shared = world.api.post(
        media,
        family,
        {**PHOTO, "noteId": world.records["note_family"], "visitId": world.records["visit"]},
    )
    assert shared.status == 201, shared.body


def test_what_the_family_sees_refers_only_to_what_the_family_sees(
    world: World, stack: Emulators
) -> None:
    staff = world.token("social_worker")
    media = path(world, "media")
    private = world.records["note_professionals"]
    shared = world.api.post(media, staff, {**PHOTO, "visibility": "family", "noteId": private})
    assert refused(shared, "noteId")["errors"][0]["type"] == "reference_not_shared"

    record_id = made(world, "media", {**PHOTO, "noteId": private})
    widened = world.api.patch(f"{media}/{record_id}", staff, {"visibility": "family"})
    assert refused(widened, "noteId")["errors"][0]["type"] == "reference_not_shared"
    on_shared = made(world, "media", {**PHOTO, "noteId": world.records["note_family"]})
    shown = world.api.patch(f"{media}/{on_shared}", staff, {"visibility": "family"})
    assert shown.status == 200, shown.body


def test_a_retried_create_is_answered_after_its_reference_is_deleted(
    world: World, stack: Emulators
) -> None:
    staff = world.token("social_worker")
    note = made(world, "notes", {"body": "Soon gone"})
    body = {**PHOTO, "id": uid(), "noteId": note}
    first = world.api.post(path(world, "media"), staff, body)
    assert first.status == 201, first.body
    assert world.api.delete(f"{path(world, 'notes')}/{note}", staff).status == 204

    again = world.api.post(path(world, "media"), staff, body)
    assert again.status == 200, again.body
    assert again.body["upload"]["url"]


def test_sync_push_applies_the_same_rule(world: World, elsewhere: dict[str, str]) -> None:
    agenda = world.records["agenda_family"]
    current = world.api.get(f"{path(world, 'agendas')}/{agenda}", world.token("social_worker"))

    def op(kind: str, action: str, record_id: str, **extra: Any) -> dict[str, Any]:
        return {
            "opId": uid(),
            "type": kind,
            "action": action,
            "id": record_id,
            "familyId": world.family,
            **extra,
        }

    operations = [
        op("note", "create", uid(), data={"body": "x", "visitId": elsewhere["other family's"]}),
        op("note", "create", uid(), data={"body": "x", "visitId": elsewhere["never existing"]}),
        op(
            "agenda",
            "update",
            agenda,
            baseVersion=current.body["version"],
            data={"visitId": elsewhere["deleted"]},
        ),
        op("note", "create", uid(), data={"body": "x", "visitId": world.records["visit"]}),
    ]
    response = world.api.post("/sync", world.token("social_worker"), {"operations": operations})
    assert response.status == 200, response.body
    results = response.body["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected", "rejected", "applied"]
    for index, result in enumerate(results[:3]):
        assert result["problem"]["status"] == 422
        assert [e["loc"] for e in result["problem"]["errors"]] == [
            ["operations", index, "data", "visitId"]
        ]
    problems = [{**r["problem"], "errors": None} for r in results[:3]]
    assert problems[0] == problems[1] == problems[2]


@pytest.fixture
def point_reads(world: World, stack: Emulators) -> Iterator[list[str]]:
    """The ids of the case records read by id while the test runs."""
    store = get_runtime().records
    read = store.read
    seen: list[str] = []

    def counted(family_id: str, record_id: str) -> dict[str, Any] | None:
        seen.append(record_id)
        return read(family_id, record_id)

    store.read = counted  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        del store.read


def test_each_reference_costs_one_point_read(world: World, point_reads: list[str]) -> None:
    staff = world.token("social_worker")
    visit, note = world.records["visit"], world.records["note_professionals"]

    def reads(call: Any) -> list[str]:
        point_reads.clear()
        response = call()
        assert response.status in (200, 201), response.body
        return list(point_reads)

    media = path(world, "media")
    reads(lambda: world.api.post(media, staff, PHOTO))  # the family is cached from now on
    plain = reads(lambda: world.api.post(media, staff, PHOTO))
    linked = reads(
        lambda: world.api.post(media, staff, {**PHOTO, "visitId": visit, "noteId": note})
    )
    assert sorted(linked) == sorted([*plain, visit, note])

    record = f"{path(world, 'notes')}/{made(world, 'notes', {'body': 'x', 'visitId': visit})}"
    edited = reads(lambda: world.api.patch(record, staff, {"body": "y"}))
    another = new_visit(world)
    relinked = reads(lambda: world.api.patch(record, staff, {"visitId": another}))
    assert len(relinked) == len(edited) + 1
