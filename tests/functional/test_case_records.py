"""Concurrency, safe retries, soft delete, pagination, audit and bad input on the records API."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest

from local.emulators import Emulators
from shared.bootstrap import get_runtime
from shared.storage_layout import AUDIT
from tests.functional.world import World


@pytest.fixture(autouse=True)
def clean_environment(one_instance: None) -> None:
    """The module's requests share one runtime (``one_instance``): no test changes a setting."""


@pytest.fixture
def stack(emulators: Emulators, one_instance: None) -> Emulators:
    return emulators


def uid() -> str:
    return str(uuid.uuid4())


def notes_path(world: World) -> str:
    return f"/families/{world.family}/notes"


def new_note(world: World, body: str = "Visit went well", **extra: Any) -> dict[str, Any]:
    made = world.api.post(notes_path(world), world.token("social_worker"), {"body": body, **extra})
    assert made.status == 201, made.body
    return dict(made.body)


def test_create_answers_201_with_location_etag_and_defaults(world: World, stack: Emulators) -> None:
    made = world.api.post(notes_path(world), world.token("social_worker"), {"body": "Hello"})
    assert made.status == 201
    assert made.header("Location") == f"/api/v1/families/{world.family}/notes/{made.body['id']}"
    assert made.header("ETag") == f'"{made.body["version"]}"'
    assert made.body["visibility"] == "professionals"
    assert made.body["createdBy"] == {
        "id": world.people["social_worker"].oid,
        "name": "Sam Patel",
        "kind": "staff",
    }
    assert made.body["createdAt"].endswith("Z")


def test_racing_updates_with_the_same_if_match_exactly_one_wins(
    world: World, stack: Emulators
) -> None:
    note = new_note(world)
    path = f"{notes_path(world)}/{note['id']}"
    results: list[Any] = []
    barrier = threading.Barrier(2)

    def edit(role: str, text: str) -> None:
        barrier.wait()
        results.append(
            world.api.patch(
                path,
                world.token(role),
                {"body": text},
                headers={"If-Match": f'"{note["version"]}"'},
            )
        )

    threads = [
        threading.Thread(target=edit, args=("social_worker", "First")),
        threading.Thread(target=edit, args=("team_manager", "Second")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(r.status for r in results)
    assert statuses == [200, 412]
    winner = next(r for r in results if r.status == 200)
    loser = next(r for r in results if r.status == 412)
    assert loser.body["current"]["version"] == winner.body["version"]
    assert loser.body["current"]["body"] == winner.body["body"]


def test_stale_if_match_is_412_with_the_current_record(world: World, stack: Emulators) -> None:
    note = new_note(world)
    path = f"{notes_path(world)}/{note['id']}"
    sw = world.token("social_worker")
    assert (
        world.api.patch(path, sw, {"body": "v2"}, headers={"If-Match": note["version"]}).status
        == 200
    )
    stale = world.api.patch(path, sw, {"body": "v3"}, headers={"If-Match": f'"{note["version"]}"'})
    assert stale.status == 412
    assert stale.body["current"]["body"] == "v2"
    assert world.api.delete(path, sw, headers={"If-Match": '"not-the-version"'}).status == 412


def test_if_none_match_gives_304(world: World, stack: Emulators) -> None:
    note = new_note(world)
    path = f"{notes_path(world)}/{note['id']}"
    sw = world.token("social_worker")
    assert world.api.get(path, sw, headers={"If-None-Match": f'"{note["version"]}"'}).status == 304
    assert world.api.get(path, sw, headers={"If-None-Match": '"older"'}).status == 200


def test_the_same_post_three_times_gives_one_record(world: World, stack: Emulators) -> None:
    body = {"id": uid(), "body": "Retried on a bad connection"}
    responses = [
        world.api.post(notes_path(world), world.token("social_worker"), body) for _ in range(3)
    ]
    assert [r.status for r in responses] == [201, 200, 200]
    assert len({r.body["version"] for r in responses}) == 1
    listed = world.api.get(notes_path(world), world.token("social_worker"), params={"limit": "100"})
    assert sum(1 for item in listed.body["items"] if item["id"] == body["id"]) == 1


def test_a_post_with_an_existing_id_and_other_content_is_409_with_current(
    world: World, stack: Emulators
) -> None:
    note = new_note(world, id=uid())
    clash = world.api.post(
        notes_path(world),
        world.token("social_worker"),
        {"id": note["id"], "body": "Something else"},
    )
    assert clash.status == 409
    assert clash.body["current"]["body"] == note["body"]
    by_other = world.api.post(
        notes_path(world), world.token("team_manager"), {"id": note["id"], "body": note["body"]}
    )
    assert by_other.status == 409


def test_deleted_records_vanish_from_get_and_lists(world: World, stack: Emulators) -> None:
    note = new_note(world)
    path = f"{notes_path(world)}/{note['id']}"
    sw = world.token("social_worker")
    assert world.api.delete(path, sw).status == 204
    assert world.api.get(path, sw).status == 404
    assert world.api.delete(path, sw).status == 404
    listed = world.api.get(notes_path(world), sw, params={"limit": "100"})
    assert note["id"] not in {item["id"] for item in listed.body["items"]}
    stored = get_runtime().records.read(world.family, note["id"])
    assert stored is not None
    assert stored["deleted"] is True


def test_lists_page_with_opaque_tokens_in_a_stable_newest_first_order(
    world: World, stack: Emulators
) -> None:
    family = world.api.post(
        "/families", world.token("social_worker"), {"displayName": "Paging", "teamId": world.team_a}
    )
    path = f"/families/{family.body['id']}/notes"
    sw = world.token("social_worker")
    made = [world.api.post(path, sw, {"body": f"Note {i}"}).body["id"] for i in range(7)]
    seen: list[str] = []
    token: str | None = None
    while True:
        params = {"limit": "3", **({"next": token} if token else {})}
        page = world.api.get(path, sw, params=params)
        assert page.status == 200
        assert len(page.body["items"]) <= 3
        seen += [item["id"] for item in page.body["items"]]
        token = page.body["next"]
        if token is None:
            break
    assert seen == list(reversed(made))


@pytest.mark.parametrize("limit", ["0", "101", "ten", "-1", "1.5"])
def test_a_malformed_limit_is_400(world: World, stack: Emulators, limit: str) -> None:
    response = world.api.get(
        notes_path(world), world.token("social_worker"), params={"limit": limit}
    )
    assert response.status == 400


def test_a_tampered_or_foreign_next_token_is_400(world: World, stack: Emulators) -> None:
    sw, tm = world.token("social_worker"), world.token("team_manager")
    for _ in range(3):
        new_note(world)
    page = world.api.get(notes_path(world), sw, params={"limit": "1"})
    token = page.body["next"]
    assert token
    assert world.api.get(notes_path(world), tm, params={"next": token}).status == 400
    forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    assert world.api.get(notes_path(world), sw, params={"next": forged}).status == 400
    assert world.api.get(notes_path(world), sw, params={"next": "garbage"}).status == 400


def test_notes_filter_by_visit(world: World, stack: Emulators) -> None:
    visit = world.records["visit"]
    on_visit = new_note(world, visitId=visit)
    listed = world.api.get(
        notes_path(world), world.token("social_worker"), params={"visitId": visit, "limit": "100"}
    )
    assert {item["visitId"] for item in listed.body["items"]} == {visit}
    assert on_visit["id"] in {item["id"] for item in listed.body["items"]}
    bad = world.api.get(notes_path(world), world.token("social_worker"), params={"visitId": "x"})
    assert bad.status == 400


def audit_events(family_id: str, record_id: str) -> list[dict[str, Any]]:
    container = get_runtime().database.get_container_client(AUDIT.name)
    return list(
        container.query_items(
            "SELECT * FROM c WHERE c.familyId = @f AND c.recordId = @r",
            parameters=[{"name": "@f", "value": family_id}, {"name": "@r", "value": record_id}],
            partition_key=family_id,
        )
    )


def test_one_get_of_a_note_writes_exactly_one_audit_event_naming_the_caller(
    world: World, stack: Emulators
) -> None:
    note = new_note(world)
    before = len(audit_events(world.family, note["id"]))
    reader = world.people["team_manager"]
    assert world.api.get(f"{notes_path(world)}/{note['id']}", reader.token).status == 200
    events = audit_events(world.family, note["id"])
    assert len(events) == before + 1
    read = next(e for e in events if e["action"] == "read")
    assert read["actor"]["oid"] == reader.oid
    assert read["actor"]["roles"] == ["TeamManager"]
    assert read["outcome"] == "ok"
    assert read["recordType"] == "note"


def test_denied_attempts_are_audited_and_the_trail_is_newest_first(
    world: World, stack: Emulators
) -> None:
    note = new_note(world)
    intruder = world.people["other_team_manager"]
    assert world.api.get(f"{notes_path(world)}/{note['id']}", intruder.token).status == 404
    trail = world.api.get(
        f"/families/{world.family}/audit", world.token("head_of_service"), params={"limit": "100"}
    )
    assert trail.status == 200
    denied = [e for e in trail.body["items"] if e["outcome"] == "denied"]
    assert any(e["actor"]["oid"] == intruder.oid for e in denied)
    times = [e["at"] for e in trail.body["items"]]
    assert times == sorted(times, reverse=True)


def test_a_comment_follows_its_note_out_of_the_familys_sight(
    world: World, stack: Emulators
) -> None:
    note = new_note(world, visibility="family")
    family = world.token("family_member")
    comments = f"{notes_path(world)}/{note['id']}/comments"
    assert world.api.post(comments, family, {"body": "Thank you"}).status == 201
    assert len(world.api.get(comments, family).body["items"]) == 1
    hidden = world.api.patch(
        f"{notes_path(world)}/{note['id']}",
        world.token("social_worker"),
        {"visibility": "professionals"},
    )
    assert hidden.status == 200
    assert world.api.get(comments, family).status == 404
    staff_view = world.api.get(comments, world.token("social_worker"))
    assert [c["body"] for c in staff_view.body["items"]] == ["Thank you"]


def test_comments_are_listed_oldest_first(world: World, stack: Emulators) -> None:
    note = new_note(world)
    path = f"{notes_path(world)}/{note['id']}/comments"
    for text in ("one", "two", "three"):
        world.api.post(path, world.token("social_worker"), {"body": text})
    listed = world.api.get(path, world.token("team_manager"))
    assert [c["body"] for c in listed.body["items"]] == ["one", "two", "three"]


def test_agenda_items_added_by_a_family_are_attributed_and_retries_are_safe(
    world: World, stack: Emulators
) -> None:
    agenda = world.api.post(
        f"/families/{world.family}/agendas",
        world.token("social_worker"),
        {"title": "Next visit", "visibility": "family"},
    )
    path = f"/families/{world.family}/agendas/{agenda.body['id']}/items"
    item = {"id": uid(), "text": "Talk about school"}
    first = world.api.post(path, world.token("family_member"), item)
    again = world.api.post(path, world.token("family_member"), item)
    assert (first.status, again.status) == (201, 200)
    assert [i["text"] for i in again.body["items"]] == ["Talk about school"]
    assert again.body["items"][0]["addedBy"]["kind"] == "family"


def test_visits_must_end_after_they_start(world: World, stack: Emulators) -> None:
    response = world.api.post(
        f"/families/{world.family}/visits",
        world.token("social_worker"),
        {"startsAt": "2026-12-01T11:00:00Z", "endsAt": "2026-12-01T10:00:00Z"},
    )
    assert response.status == 422
    assert response.body["errors"][0]["loc"] == ["body", "endsAt"]


def test_required_fields_cannot_be_removed_by_merge_patch(world: World, stack: Emulators) -> None:
    note = new_note(world)
    response = world.api.patch(
        f"{notes_path(world)}/{note['id']}", world.token("social_worker"), {"body": None}
    )
    assert response.status == 422


@pytest.mark.parametrize("field", ["actions", "visibility"])
def test_fields_with_defaults_cannot_be_removed_either(
    world: World, stack: Emulators, field: str
) -> None:
    path = f"/families/{world.family}/plans/{world.records['plan_family']}"
    sw = world.token("social_worker")
    response = world.api.patch(path, sw, {field: None})
    assert response.status == 422
    assert response.body["errors"] == [{"loc": ["body", field], "type": "null_not_allowed"}]
    assert world.api.get(path, sw).status == 200


@pytest.mark.parametrize(
    ("collection", "field", "entry", "default"),
    [
        ("agendas", "items", {"text": "Swimming"}, ("done", False)),
        ("plans", "actions", {"text": "Call school", "owner": "Sam"}, ("status", "open")),
    ],
)
def test_a_merge_patch_replacing_a_list_keeps_the_defaults_of_its_entries(
    world: World,
    stack: Emulators,
    collection: str,
    field: str,
    entry: dict[str, Any],
    default: tuple[str, Any],
) -> None:
    path = f"/families/{world.family}/{collection}"
    sw = world.token("social_worker")
    made = world.api.post(path, sw, {"title": "Thursday", field: []})
    patched = world.api.patch(f"{path}/{made.body['id']}", sw, {field: [{"id": uid(), **entry}]})
    assert patched.status == 200, patched.body
    name, value = default
    assert patched.body[field][0][name] == value
    assert world.api.get(f"{path}/{made.body['id']}", sw).body[field][0][name] == value


def test_invitation_links_a_family_member_whose_verified_phone_matches(
    world: World, stack: Emulators
) -> None:
    from tests.tokens import family_token

    sw = world.token("social_worker")
    member = world.api.post(
        f"/families/{world.family}/members",
        sw,
        {"displayName": "Jamie Jones", "relationship": "brother", "phone": "+447700900777"},
    )
    invitation = world.api.post(
        f"/families/{world.family}/invitations", sw, {"memberId": member.body["id"]}
    )
    assert invitation.status == 201
    code = invitation.body["code"]
    stranger = family_token(oid=uid(), phone_number="+447700900001", phone_number_verified=True)
    assert world.api.post("/invitations/redeem", stranger, {"code": code}).status == 404
    jamie_oid = uid()
    jamie = family_token(oid=jamie_oid, phone_number="+447700900777", phone_number_verified=True)
    redeemed = world.api.post("/invitations/redeem", jamie, {"code": code})
    assert redeemed.status == 200
    assert redeemed.body == {"familyId": world.family, "memberId": member.body["id"]}
    assert world.api.get(f"/families/{world.family}/notes", jamie).status == 200
    again = world.api.post(
        "/invitations/redeem",
        family_token(oid=uid(), phone_number="+447700900777", phone_number_verified=True),
        {"code": code},
    )
    assert again.status == 404


def test_redeeming_is_rate_limited_to_five_failures_an_hour(world: World, stack: Emulators) -> None:
    from tests.tokens import family_token

    guesser = family_token(oid=uid(), phone_number="+447700900002")
    statuses = [
        world.api.post("/invitations/redeem", guesser, {"code": f"WRONG{i:05d}"}).status
        for i in range(7)
    ]
    assert statuses[:5] == [404] * 5
    assert statuses[5:] == [429, 429]


BAD_BODIES: list[tuple[str, Any, dict[str, str] | None, int]] = [
    ("malformed json", b'{"body": ', None, 400),
    ("not json", b"body=hello", {"content-type": "application/x-www-form-urlencoded"}, 415),
    ("unknown field", {"body": "x", "surprise": 1}, None, 422),
    ("wrong type", {"body": 12}, None, 422),
    ("array", [1, 2], None, 422),
    ("oversize", {"body": "x" * (1024 * 1024 + 10)}, None, 413),
    ("empty", b"", None, 400),
]
WRITE_ENDPOINTS = [
    ("POST", "/families"),
    ("PATCH", "/families/{family}"),
    ("POST", "/families/{family}/members"),
    ("PATCH", "/families/{family}/members/{member}"),
    ("POST", "/families/{family}/invitations"),
    ("POST", "/invitations/redeem"),
    ("POST", "/families/{family}/visits"),
    ("PATCH", "/families/{family}/visits/{visit}"),
    ("POST", "/families/{family}/agendas"),
    ("PATCH", "/families/{family}/agendas/{agenda}"),
    ("POST", "/families/{family}/agendas/{agenda}/items"),
    ("POST", "/families/{family}/notes"),
    ("PATCH", "/families/{family}/notes/{note}"),
    ("POST", "/families/{family}/plans"),
    ("PATCH", "/families/{family}/plans/{plan}"),
    ("POST", "/families/{family}/notes/{note}/comments"),
    ("PATCH", "/families/{family}/comments/{comment}"),
    ("PUT", "/staff/{member}"),
]


@pytest.mark.parametrize(("method", "template"), WRITE_ENDPOINTS)
@pytest.mark.parametrize(
    ("case", "body", "headers", "status"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES]
)
def test_bad_bodies_are_4xx_problems_never_500(
    world: World,
    stack: Emulators,
    method: str,
    template: str,
    case: str,
    body: Any,
    headers: dict[str, str] | None,
    status: int,
) -> None:
    path = template.format(
        family=world.family,
        member=world.member_self,
        visit=world.records["visit"],
        agenda=world.records["agenda_family"],
        note=world.records["note_family"],
        plan=world.records["plan_family"],
        comment=world.records["comment_family"],
    )
    role = (
        "admin"
        if path.startswith("/staff/")
        else ("family_member" if path == "/invitations/redeem" else "social_worker")
    )
    response = world.api.request(method, path, world.token(role), body, headers=headers)
    assert 400 <= response.status < 500
    assert response.status == status
    assert response.header("content-type") is None or "problem" in str(
        response.header("content-type")
    )
    assert response.body["status"] == response.status


@pytest.mark.parametrize(
    "path",
    [
        "/families/not-a-uuid",
        "/families/{family}/notes/12345",
        "/families/{family}/visits/%00",
        "/families/{family}/plans/" + "a" * 300,
        "/families/{family}/bogus/{note}/comments",
    ],
)
def test_bad_ids_are_404_problems(world: World, stack: Emulators, path: str) -> None:
    response = world.api.get(
        path.format(family=world.family, note=world.records["note_family"]),
        world.token("social_worker"),
    )
    assert response.status == 404
    assert response.body["status"] == 404
