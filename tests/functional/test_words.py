"""Words entries through the API on the emulators: writing, media, withdrawal, acknowledgement,
the managers' list, sync and the export."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from local.emulators import Emulators
from shared.bootstrap import reset_runtime
from tests.functional.world import World, link_family_member, uid


@dataclass
class Family:
    world: World
    id: str
    child: str
    parent: str
    child_member: str

    @property
    def base(self) -> str:
        return f"/families/{self.id}"

    def token(self, role: str) -> str:
        return self.world.people[role].token

    def write(self, by: str | None = None, **fields: Any) -> Any:
        body = {"kind": "good-news", "text": "I got a reading certificate", **fields}
        return self.world.api.post(f"{self.base}/words", by or self.child, body)


@pytest.fixture
def family(world: World, stack: Emulators, monkeypatch: pytest.MonkeyPatch) -> Iterator[Family]:
    monkeypatch.setenv("WORDS_ACK_DAYS", "0")
    reset_runtime()
    api, worker = world.api, world.people["social_worker"].token
    made = api.post("/families", worker, {"displayName": "Doe", "teamId": world.team_a})
    family_id = str(made.body["id"])
    child = api.post(f"/families/{family_id}/members", worker,
                     {"displayName": "Ash", "relationship": "son", "child": True}).body  # fmt: skip
    parent = api.post(f"/families/{family_id}/members", worker,
                      {"displayName": "Pat", "relationship": "mother"}).body  # fmt: skip
    yield Family(
        world,
        family_id,
        link_family_member(family_id, child["id"], "+447700900701").token,
        link_family_member(family_id, parent["id"], "+447700900702").token,
        str(child["id"]),
    )
    reset_runtime()


def test_a_child_writes_and_staff_and_the_family_read_it(family: Family) -> None:
    made = family.write(kind="worry", text="I worry about the new school")

    assert made.status == 201, made.body
    assert made.header("Location") == f"/api/v1{family.base}/words/{made.body['id']}"
    assert made.body["memberId"] == family.child_member
    for reader in (family.token("social_worker"), family.token("team_manager"), family.parent):
        listed = family.world.api.get(f"{family.base}/words", reader)
        assert [e["id"] for e in listed.body["items"]] == [made.body["id"]], listed.body
    read = family.world.api.get(f"{family.base}/words/{made.body['id']}", family.parent)
    assert read.status == 200
    assert read.header("ETag") == f'"{read.body["version"]}"'


def test_staff_cannot_write_and_bad_answers_are_422(family: Family) -> None:
    assert family.write(by=family.token("social_worker")).status == 403
    for answers in ({"listenedTo": 6}, {"listenedTo": 0}, {"understoodPlan": "5"}):
        refused = family.write(kind="after-visit", answers=answers)
        assert refused.status == 422, refused.body
        assert refused.body["errors"][0]["loc"][:2] == ["body", "answers"]
    kept = family.write(kind="after-visit", answers={"listenedTo": 4, "understoodPlan": 5})
    assert kept.status == 201
    assert kept.body["answers"] == {"listenedTo": 4, "understoodPlan": 5}


def test_entries_attach_only_the_familys_own_uploads(family: Family) -> None:
    def upload(token: str) -> str:
        slot = {"kind": "photo", "contentType": "image/jpeg", "sizeBytes": 2048}
        made = family.world.api.post(f"{family.base}/media", token, slot)
        assert made.status == 201, made.body
        return str(made.body["id"])

    own, staffs = upload(family.child), upload(family.token("social_worker"))

    assert family.write(mediaIds=[own], text=None).status == 201
    refused = family.write(mediaIds=[own, staffs])
    assert refused.status == 422
    assert refused.body["errors"] == [{"loc": ["body", "mediaIds", 1], "type": "unknown_reference"}]
    unknown = family.write(mediaIds=[uid()])
    assert unknown.status == 422
    assert unknown.body["errors"] == [{"loc": ["body", "mediaIds", 0], "type": "unknown_reference"}]


def test_only_the_author_withdraws_and_no_one_edits(family: Family) -> None:
    entry = family.write().body
    path = f"{family.base}/words/{entry['id']}"
    api = family.world.api

    assert api.patch(path, family.child, {"text": "changed"}).status == 405
    assert api.delete(path, family.parent).status == 403
    assert api.delete(path, family.token("team_manager")).status == 403
    assert api.delete(path, family.token("other_team_manager")).status == 404
    assert api.delete(path, family.child).status == 204
    assert api.get(path, family.token("social_worker")).status == 404


def test_staff_acknowledge_once_and_managers_see_what_waits(family: Family) -> None:
    waiting = family.write().body
    answered = family.write().body
    api = family.world.api
    path = f"{family.base}/words/{answered['id']}/acknowledge"

    first = api.post(path, family.token("social_worker"))
    again = api.post(path, family.token("head_of_service"))
    assert first.status == again.status == 200
    assert again.body["acknowledgedBy"] == first.body["acknowledgedBy"]
    assert api.post(path, family.child).status == 403

    listed = api.get("/words/unacknowledged", family.token("team_manager"), params={"limit": "100"})
    ids = [e["id"] for e in listed.body["items"]]
    assert waiting["id"] in ids
    assert answered["id"] not in ids
    other = api.get("/words/unacknowledged", family.token("other_team_manager"))
    assert family.id not in str(other.body)
    assert api.get("/words/unacknowledged", family.token("social_worker")).status == 403


def test_words_written_offline_arrive_by_sync_and_are_in_the_export(family: Family) -> None:
    entry_id = str(uuid.uuid4())
    operation = {
        "opId": f"tablet:{entry_id}",
        "type": "words",
        "action": "create",
        "id": entry_id,
        "familyId": family.id,
        "data": {"kind": "before-visit", "text": "I want to talk about football"},
    }
    pushed = family.world.api.post("/sync", family.child, {"operations": [operation]})
    assert pushed.body["results"][0]["status"] == "applied", pushed.body
    alert = family.world.api.post(f"{family.base}/safety-alerts", family.child, {})
    assert alert.status == 201

    manager = family.world.api.get(f"{family.base}/export", family.token("team_manager")).body
    types = {r["type"] for r in manager["records"]}
    assert {"words", "safetyAlert", "safetyText"} <= types
    child = family.world.api.get(f"{family.base}/export", family.child).body
    assert {r["id"] for r in child["records"] if r["type"] == "words"} == {entry_id}
    assert [r["id"] for r in child["records"] if r["type"] == "safetyAlert"] == [alert.body["id"]]
    assert all(r["type"] != "safetyText" for r in child["records"])
    parent = family.world.api.get(f"{family.base}/export", family.parent).body
    assert all(r["type"] != "safetyAlert" for r in parent["records"])
    assert entry_id in {r["id"] for r in parent["records"]}


def test_a_member_sets_their_own_language_and_a_bad_tag_is_422(family: Family) -> None:
    api, worker = family.world.api, family.token("social_worker")
    path = f"{family.base}/members/{family.child_member}"

    assert (
        api.patch(path, family.child, {"preferredLanguage": "pl-pl"}).body["preferredLanguage"]
        == "pl-PL"
    )
    refused = api.patch(path, worker, {"preferredLanguage": "klingon-x"})
    assert refused.status == 422
    assert refused.body["errors"] == [
        {"loc": ["body", "preferredLanguage"], "type": "language_tag"}
    ]
    made = api.post(
        f"{family.base}/members", worker, {"displayName": "Kim", "relationship": "aunt"}
    )
    assert made.body["preferredLanguage"] == "en"
