"""Statutory visit recording through the API on the emulators: a visit with its agenda, notes and
plan, its outcome, the case note a social worker pastes into the case management system, the
once-only "recorded there" mark, the manager's sign-off, and sync applying the same rules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.emulators import Emulators
from shared.bootstrap import get_runtime
from shared.reminders.memory import FrozenClock
from tests.functional.world import World


def uid() -> str:
    return str(uuid.uuid4())


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 11, 26, hour, minute, tzinfo=UTC)


@pytest.fixture
def clock(stack: Emulators) -> FrozenClock:
    """The app's clock, frozen on the afternoon of the visit (tokens keep real time)."""
    frozen = FrozenClock(at(15, 0))
    get_runtime().clock = frozen
    return frozen


def add_child(world: World, name: str, **more: Any) -> str:
    made = world.api.post(
        f"/families/{world.family}/members",
        world.token("social_worker"),
        {"displayName": name, "relationship": "child", "child": True, **more},
    )
    assert made.status == 201, made.body
    return str(made.body["id"])


def staff_post(world: World, path: str, body: dict[str, Any]) -> dict[str, Any]:
    made = world.api.post(f"/families/{world.family}/{path}", world.token("social_worker"), body)
    assert made.status == 201, made.body
    return dict(made.body)


def the_visit(world: World, clock: FrozenClock) -> dict[str, Any]:
    """Thursday's home visit to Mia and Leo: an agenda, a worker's note, the mother's note, a plan
    made at the visit, and an unrelated note."""
    sw = world.people["social_worker"]
    mia = add_child(world, "Mia", cmsId="LL-204311")
    leo = add_child(world, "Leo")
    visit = staff_post(
        world,
        "visits",
        {"startsAt": "2026-11-26T16:00:00Z", "endsAt": "2026-11-26T17:00:00Z",
         "location": "Home", "workerId": sw.oid},
    )  # fmt: skip
    visit_id = visit["id"]
    staff_post(
        world,
        "agendas",
        {"visitId": visit_id, "title": "Thursday's visit", "items": [
            {"id": uid(), "text": "School mornings", "done": True},
            {"id": uid(), "text": "Swimming lessons"}]},
    )  # fmt: skip
    staff_post(world, "notes", {"body": "A note about another day."})
    clock.advance(at(17, 10) - clock.now)
    staff_post(
        world,
        "notes",
        {"visitId": visit_id, "body": "Mia showed me her bedroom. She has her own bed and her "
         "school uniform was ready for the morning."},
    )  # fmt: skip
    clock.advance(at(17, 20) - clock.now)
    family_note = world.api.post(
        f"/families/{world.family}/notes",
        world.token("family_member"),
        {"visitId": visit_id, "body": "Thank you for listening to Mia."},
    )
    assert family_note.status == 201, family_note.body
    staff_post(
        world,
        "plans",
        {"visitId": visit_id, "title": "School attendance", "actions": [
            {"id": uid(), "text": "Ask the school about breakfast club", "owner": "Sam Patel",
             "dueDate": "2026-12-04"},
            {"id": uid(), "text": "Walk Mia to school on Mondays", "owner": "Pat Jones",
             "status": "in_progress"},
            {"id": uid(), "text": "Taxi to school", "owner": "Sam Patel", "status": "dropped"}]},
    )  # fmt: skip
    clock.advance(at(17, 25) - clock.now)
    return {"id": visit_id, "mia": mia, "leo": leo, "version": visit["version"]}


OUTCOME = {
    "happened": True,
    "present": ["Pat Jones (mother)", "Mia", "Leo", "Sam Patel (social worker)"],
    "childViews": "Mia said she likes her new school and wants swimming lessons.",
}


def record_outcome(world: World, visit: dict[str, Any], role: str = "social_worker") -> Any:
    outcome = {
        **OUTCOME,
        "childrenSeen": [
            {"memberId": visit["mia"], "seen": True, "seenAlone": True, "bedroomSeen": True},
            {"memberId": visit["leo"], "seen": True, "seenAlone": False, "bedroomSeen": False,
             "notSeenAloneReason": "Leo is two and stayed with his mother."},
        ],
    }  # fmt: skip
    return world.api.patch(
        f"/families/{world.family}/visits/{visit['id']}",
        world.token(role),
        {"outcome": outcome, "status": "completed"},
    )


CASE_NOTE = """\
Visit: Thursday 26 November 2026, 16:00 to 17:00
Location: Home
Worker: Sam Patel
Present: Pat Jones (mother), Mia, Leo, Sam Patel (social worker)
The visit took place.

Children
Mia: seen, seen alone, bedroom seen.
Leo: seen, not seen alone (Leo is two and stayed with his mother), bedroom not seen.

Child's views
Mia said she likes her new school and wants swimming lessons.

Agenda: Thursday's visit
- School mornings (done)
- Swimming lessons

Notes
Sam Patel, 26 November 2026 17:10: Mia showed me her bedroom. She has her own bed and her school \
uniform was ready for the morning.
Pat Jones (family), 26 November 2026 17:20: Thank you for listening to Mia.

Plan actions agreed
School attendance:
- Ask the school about breakfast club. Owner: Sam Patel. Due: Friday 4 December 2026. Status: open.
- Walk Mia to school on Mondays. Owner: Pat Jones. Status: in progress.

Recorded by Sam Patel on Thursday 26 November 2026 at 17:25.
"""


def test_the_case_note_is_ready_to_paste_into_the_case_management_system(
    world: World, clock: FrozenClock
) -> None:
    visit = the_visit(world, clock)
    base = f"/families/{world.family}/visits/{visit['id']}/case-record"
    sw = world.token("social_worker")
    assert world.api.get(base, sw).status == 409  # no outcome yet
    assert record_outcome(world, visit).status == 200

    record = world.api.get(base, sw)
    text = world.api.get(base, sw, params={"format": "text"}, parse=False)

    assert record.status == 200, record.body
    assert record.body["text"] == CASE_NOTE
    assert record.body["children"] == [
        {"memberId": visit["mia"], "name": "Mia", "cmsId": "LL-204311", "seen": True,
         "seenAlone": True, "bedroomSeen": True, "notSeenAloneReason": None},
        {"memberId": visit["leo"], "name": "Leo", "cmsId": None, "seen": True,
         "seenAlone": False, "bedroomSeen": False,
         "notSeenAloneReason": "Leo is two and stayed with his mother."},
    ]  # fmt: skip
    assert record.body["visit"]["recordedAt"] == "2026-11-26T17:25:00.000Z"
    assert text.status == 200
    assert text.header("Content-Type") == "text/plain; charset=utf-8"
    assert text.raw.decode("utf-8") == CASE_NOTE
    assert world.api.get(base, world.token("family_member")).status == 403
    assert world.api.get(base, sw, params={"format": "pdf"}).status == 400


def test_a_visit_that_did_not_happen_says_so_in_its_case_note(
    world: World, clock: FrozenClock
) -> None:
    visit = staff_post(
        world, "visits", {"startsAt": "2026-11-27T10:00:00Z", "endsAt": "2026-11-27T11:00:00Z"}
    )
    path = f"/families/{world.family}/visits/{visit['id']}"
    sw = world.token("social_worker")
    refused = world.api.patch(path, sw, {"outcome": {"happened": False}})
    assert refused.status == 422
    assert refused.body["errors"] == [
        {"loc": ["body", "outcome", "reasonNotHappened"], "type": "reason_required"}
    ]
    not_held = {"happened": False, "reasonNotHappened": "No one was at home."}
    done = world.api.patch(path, sw, {"outcome": not_held})
    assert done.status == 200, done.body

    text = world.api.get(f"{path}/case-record", sw, params={"format": "text"}, parse=False)

    assert text.raw.decode() == (
        "Visit: Friday 27 November 2026, 10:00 to 11:00\n"
        "Worker: Sam Patel\n"
        "The visit did not take place: No one was at home.\n"
        "\n"
        "Recorded by Sam Patel on Thursday 26 November 2026 at 15:00.\n"
    )


def test_the_outcome_names_only_children_of_this_family(world: World, clock: FrozenClock) -> None:
    visit = the_visit(world, clock)
    parent = world.records["member_self"]
    answer = world.api.patch(
        f"/families/{world.family}/visits/{visit['id']}",
        world.token("social_worker"),
        {"outcome": {"happened": True, "childrenSeen": [
            {"memberId": parent, "seen": True, "seenAlone": True}]}},
    )  # fmt: skip
    assert answer.status == 422
    assert answer.body["errors"] == [
        {"loc": ["body", "outcome", "childrenSeen", 0, "memberId"], "type": "not_a_child"}
    ]


def test_the_family_sees_the_outcome_without_reasons_and_no_cms_ids(
    world: World, clock: FrozenClock
) -> None:
    visit = the_visit(world, clock)
    record_outcome(world, visit)
    family = world.token("family_member")

    shown = world.api.get(f"/families/{world.family}/visits/{visit['id']}", family)
    members = world.api.get(f"/families/{world.family}/members", family)
    pulled = world.api.get("/sync", family)

    assert shown.status == 200
    assert shown.body["outcome"]["childrenSeen"][1] == {
        "memberId": visit["leo"], "seen": True, "seenAlone": False, "bedroomSeen": False
    }  # fmt: skip
    assert shown.body["recordedBy"]["name"] == "Sam Patel"
    assert all("cmsId" not in m for m in members.body["items"])
    synced = {c["id"]: c["data"] for c in pulled.body["changes"]}
    assert "notSeenAloneReason" not in str(synced[visit["id"]])
    assert "cmsId" not in synced[visit["mia"]]
    refused = world.api.patch(
        f"/families/{world.family}/members/{world.member_self}", family, {"cmsId": "X1"}
    )
    assert refused.status == 403


def test_recorded_in_the_cms_is_set_once(world: World, clock: FrozenClock) -> None:
    visit = the_visit(world, clock)
    path = f"/families/{world.family}/visits/{visit['id']}/case-record/recorded"
    sw = world.token("social_worker")
    assert world.api.post(path, sw).status == 409
    record_outcome(world, visit)

    first = world.api.post(path, sw)
    clock.advance(timedelta(hours=1))
    again = world.api.post(path, world.token("team_manager"))

    assert first.status == 200, first.body
    assert first.body["recordedInCmsAt"] == "2026-11-26T17:25:00.000Z"
    assert first.body["recordedInCmsBy"]["name"] == "Sam Patel"
    assert again.status == 200
    assert again.body == first.body
    assert again.header("ETag") == first.header("ETag")
    assert world.api.post(path, world.token("family_member")).status == 403


def test_a_manager_signs_off_a_visit_once_its_outcome_is_recorded(
    world: World, clock: FrozenClock
) -> None:
    visit = the_visit(world, clock)
    path = f"/families/{world.family}/visits/{visit['id']}/sign-off"
    manager = world.token("team_manager")
    assert world.api.post(path, manager).status == 409
    recorded = record_outcome(world, visit)
    assert world.api.post(path, world.token("social_worker")).status == 403
    assert world.api.post(path, world.token("family_member")).status == 403
    assert world.api.post(path, world.token("other_team_manager")).status == 404
    stale = world.api.post(path, manager, headers={"If-Match": f'"{visit["version"]}"'})
    assert stale.status == 412

    signed = world.api.post(path, manager, headers={"If-Match": recorded.header("ETag") or ""})

    assert signed.status == 200, signed.body
    assert signed.body["signedOffBy"]["name"] == "Ali Khan"
    assert signed.body["signedOffAt"] == "2026-11-26T17:25:00.000Z"
    assert signed.header("ETag") == f'"{signed.body["version"]}"'


def test_an_outcome_pushed_by_two_devices_is_applied_once_and_the_other_conflicts(
    world: World, clock: FrozenClock
) -> None:
    visit = the_visit(world, clock)
    outcome = {**OUTCOME, "childrenSeen": [
        {"memberId": visit["mia"], "seen": True, "seenAlone": True}]}  # fmt: skip

    def pushed(role: str, data: dict[str, Any], **more: Any) -> dict[str, Any]:
        operation = {"opId": uid(), "type": "visit", "action": "update", "id": visit["id"],
                     "familyId": world.family, "baseVersion": visit["version"], "data": data,
                     **more}  # fmt: skip
        answer = world.api.post("/sync", world.token(role), {"operations": [operation]})
        assert answer.status == 200, answer.body
        return dict(answer.body["results"][0])

    first = pushed("social_worker", {"outcome": outcome})
    cancelled = {"happened": False, "reasonNotHappened": "Cancelled"}
    second = pushed("team_manager", {"outcome": cancelled})
    sign_off = pushed("head_of_service", {}, type="visitSignOff", action="create")

    assert first["status"] == "applied"
    assert second["status"] == "conflict"
    assert [c["field"] for c in second["conflicts"]] == ["outcome"]
    assert second["current"]["outcome"]["happened"] is True
    assert sign_off["status"] == "conflict"  # signed off as read before the outcome
    assert sign_off["conflicts"][0]["field"] == "outcome"


def test_the_export_holds_the_new_fields_for_managers_and_the_familys_view_for_members(
    world: World, clock: FrozenClock
) -> None:
    visit = the_visit(world, clock)
    record_outcome(world, visit)
    event = staff_post(
        world, "chronology", {"date": "2026-11-20", "category": "health", "summary": "GP visit."}
    )

    def exported(role: str) -> dict[str, dict[str, Any]]:
        answer = world.api.get(f"/families/{world.family}/export", world.token(role))
        assert answer.status == 200, answer.body
        assert answer.body["next"] is None
        return {r["id"]: r for r in answer.body["records"]}

    held, shown = exported("team_manager"), exported("family_member")

    reason = "Leo is two and stayed with his mother."
    assert held[visit["id"]]["outcome"]["childrenSeen"][1]["notSeenAloneReason"] == reason
    assert held[visit["mia"]]["cmsId"] == "LL-204311"
    assert held[event["id"]]["summary"] == "GP visit."
    assert "notSeenAloneReason" not in str(shown[visit["id"]]["outcome"])
    assert shown[visit["id"]]["outcome"]["childViews"] == OUTCOME["childViews"]
    assert "cmsId" not in shown[visit["mia"]]
    assert event["id"] not in shown
