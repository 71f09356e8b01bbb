"""Corrections keep the original: earlier versions of settled notes, and disputes families add
that no edit removes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from local.emulators import Emulators
from shared.bootstrap import get_runtime
from tests.functional.world import World, link_family_member, uid


def notes(world: World) -> str:
    return f"/families/{world.family}/notes"


def staff_note(world: World, visibility: str, body: str = "Mum was calm") -> dict[str, Any]:
    made = world.api.post(
        notes(world), world.token("social_worker"), {"body": body, "visibility": visibility}
    )
    assert made.status == 201, made.body
    return dict(made.body)


def edit(world: World, note: dict[str, Any], body: str, role: str = "social_worker") -> Any:
    return world.api.patch(
        f"{notes(world)}/{note['id']}",
        world.token(role),
        {"body": body},
        headers={"If-Match": f'"{note["version"]}"'},
    )


def versions(world: World, note_id: str, role: str = "team_manager") -> Any:
    return world.api.get(f"{notes(world)}/{note_id}/versions", world.token(role))


def test_editing_a_shared_note_keeps_the_old_version(world: World, stack: Emulators) -> None:
    note = staff_note(world, "family", "Mum was calm")
    first = edit(world, note, "Mum was calm and welcoming")
    assert first.status == 200, first.body
    second = edit(world, first.body, "Mum was calm and welcoming; Dad was out")
    assert second.status == 200

    kept = versions(world, note["id"])
    assert kept.status == 200, kept.body
    assert [v["body"] for v in kept.body["items"]] == [
        "Mum was calm and welcoming",
        "Mum was calm",
    ]
    assert [v["version"] for v in kept.body["items"]] == [first.body["version"], note["version"]]
    original = kept.body["items"][-1]
    assert original["createdBy"]["name"] == "Sam Patel"
    assert original["supersededBy"]["id"] == world.people["social_worker"].oid
    current = world.api.get(f"{notes(world)}/{note['id']}", world.token("social_worker"))
    assert current.body["body"] == "Mum was calm and welcoming; Dad was out"


def test_only_staff_with_access_see_versions(world: World, stack: Emulators) -> None:
    note = staff_note(world, "family")
    assert edit(world, note, "Corrected").status == 200
    assert versions(world, note["id"], "social_worker").status == 200
    assert versions(world, note["id"], "family_member").status == 403
    assert versions(world, note["id"], "other_team_manager").status == 404
    hidden = staff_note(world, "professionals")
    assert versions(world, hidden["id"], "family_member").status == 404


def test_a_fresh_unshared_draft_is_edited_in_place_until_a_day_has_passed(
    world: World, stack: Emulators
) -> None:
    note = staff_note(world, "professionals", "Draft")
    tidied = edit(world, note, "Draft, tidied")
    assert tidied.status == 200
    assert versions(world, note["id"]).body["items"] == []

    later = datetime.now(UTC) + timedelta(hours=25)
    get_runtime().clock = lambda: later
    corrected = edit(world, tidied.body, "Draft, corrected a day later")
    assert corrected.status == 200
    assert [v["body"] for v in versions(world, note["id"]).body["items"]] == ["Draft, tidied"]


def test_deleting_a_draft_marks_its_tombstone_and_deleting_a_settled_note_does_not(
    world: World, stack: Emulators
) -> None:
    draft = staff_note(world, "professionals")
    shared = staff_note(world, "family")
    token = world.token("social_worker")
    assert world.api.delete(f"{notes(world)}/{draft['id']}", token).status == 204
    assert world.api.delete(f"{notes(world)}/{shared['id']}", token).status == 204
    records = get_runtime().records
    assert records.read(world.family, draft["id"])["deletedAsDraft"] is True  # type: ignore[index]
    kept = records.read(world.family, shared["id"])
    assert kept is not None
    assert kept["deletedAsDraft"] is False
    assert kept["body"] == shared["body"]


def dispute(
    world: World, note_id: str, statement: str, role: str = "family_member", **extra: Any
) -> Any:
    return world.api.post(
        f"{notes(world)}/{note_id}/disputes", world.token(role), {"statement": statement, **extra}
    )


def test_a_disputed_mark_survives_staff_edits(world: World, stack: Emulators) -> None:
    note = staff_note(world, "family", "Home was untidy")
    disputed = dispute(world, note["id"], "The house had just been cleaned.")
    assert disputed.status == 201, disputed.body
    assert disputed.body["disputed"] is True
    assert [d["statement"] for d in disputed.body["disputes"]] == [
        "The house had just been cleaned."
    ]
    assert disputed.body["updatedBy"] == note["updatedBy"]

    stale = edit(world, note, "Home was tidy")
    assert stale.status == 412
    edited = edit(world, disputed.body, "Home was tidy on the day")
    assert edited.status == 200
    assert edited.body["disputed"] is True
    assert edited.body["disputes"][0]["statement"] == "The house had just been cleaned."
    assert edited.body["disputes"][0]["createdBy"]["kind"] == "family"

    removing = world.api.patch(
        f"{notes(world)}/{note['id']}", world.token("team_manager"), {"disputes": []}
    )
    assert removing.status == 422
    assert (
        world.api.delete(f"{notes(world)}/{note['id']}", world.token("team_manager")).status == 204
    )
    kept = get_runtime().records.read(world.family, note["id"])
    assert kept is not None
    assert kept["disputes"][0]["statement"] == "The house had just been cleaned."


def test_disputes_are_for_family_members_on_notes_they_see_and_did_not_write(
    world: World, stack: Emulators
) -> None:
    shared = staff_note(world, "family")
    hidden = staff_note(world, "professionals")
    assert dispute(world, shared["id"], "Not so", role="social_worker").status == 403
    assert dispute(world, hidden["id"], "Not so").status == 404
    assert dispute(world, shared["id"], "Not so", role="other_family_member").status == 404
    own = world.api.post(notes(world), world.token("family_member"), {"body": "Our view"})
    assert dispute(world, own.body["id"], "Not so").status == 403


def test_a_repeated_dispute_is_a_safe_retry(world: World, stack: Emulators) -> None:
    note = staff_note(world, "family")
    dispute_id = uid()
    assert dispute(world, note["id"], "Wrong date", id=dispute_id).status == 201
    again = dispute(world, note["id"], "Wrong date", id=dispute_id)
    assert again.status == 200
    assert len(again.body["disputes"]) == 1
    assert dispute(world, note["id"], "Other words", id=dispute_id).status == 409


def test_family_members_see_their_own_disputes_and_staff_see_all(
    world: World, stack: Emulators
) -> None:
    note = staff_note(world, "family")
    other = link_family_member(world.family, world.records["member_other"], "+447700900456")
    assert dispute(world, note["id"], "Mine").status == 201
    theirs = world.api.post(
        f"{notes(world)}/{note['id']}/disputes", other.token, {"statement": "Theirs"}
    )
    assert theirs.status == 201
    path = f"{notes(world)}/{note['id']}"
    mine = world.api.get(path, world.token("family_member")).body
    assert [d["statement"] for d in mine["disputes"]] == ["Mine"]
    staff = world.api.get(path, world.token("social_worker")).body
    assert [d["statement"] for d in staff["disputes"]] == ["Mine", "Theirs"]
