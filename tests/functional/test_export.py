"""Subject access export: a manager gets exactly everything held, a family member exactly what
they may see, in one document or in parts, and every export is audited."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from local.emulators import Emulators
from shared.audit_chain import Head, verify_chain
from shared.bootstrap import get_runtime
from shared.records.store import SYSTEM_FIELDS, version_of
from shared.services.callers import resolve_caller
from shared.services.export import Exporter
from shared.storage_layout import AUDIT, RECORDS
from tests.functional.sealing import seal_now
from tests.functional.world import Person, World, link_family_member, uid

URL_FIELDS = ("downloadUrl", "posterUrl", "thumbnails")


@dataclass
class Seeded:
    family_id: str
    member: Person
    family_visible: set[str] = field(default_factory=set)
    ids: dict[str, str] = field(default_factory=dict)


def post(world: World, path: str, body: dict[str, Any], role: str = "social_worker") -> str:
    made = world.api.post(path, world.token(role), body)
    assert made.status == 201, made.body
    return str(made.body["id"])


def seed(world: World) -> Seeded:
    """A family with one of everything: shared and professionals-only, deleted, corrected,
    disputed, commented, a recording with a draft transcript, and notifications."""
    family_id = post(world, "/families", {"displayName": "Patel", "teamId": world.team_a})
    base = f"/families/{family_id}"
    parent = post(
        world,
        f"{base}/members",
        {"displayName": "Nina Patel", "relationship": "mother", "phone": "+447700900321"},
    )
    other = post(
        world,
        f"{base}/members",
        {"displayName": "Raj Patel", "relationship": "father", "phone": "+447700900654"},
    )
    child = post(
        world,
        f"{base}/members",
        {
            "displayName": "Asha Patel",
            "relationship": "daughter",
            "child": True,
            "dateOfBirth": "2016-03-01",
        },
    )
    member = link_family_member(family_id, parent, "+447700900321")
    seeded = Seeded(family_id, member)
    visit = post(
        world,
        f"{base}/visits",
        {"startsAt": "2026-12-01T10:00:00Z", "endsAt": "2026-12-01T11:00:00Z"},
    )
    shared = post(
        world, f"{base}/notes", {"body": "Asha settled at school", "visibility": "family"}
    )
    private = post(
        world, f"{base}/notes", {"body": "Concern about Raj", "visibility": "professionals"}
    )
    gone = post(world, f"{base}/notes", {"body": "Posted in error", "visibility": "family"})
    sw = world.token("social_worker")
    current = world.api.get(f"{base}/notes/{shared}", sw).body
    edited = world.api.patch(f"{base}/notes/{shared}", sw, {"body": "Asha settled well at school"})
    assert edited.status == 200
    ours = world.api.post(f"{base}/notes", member.token, {"body": "We are happier"})
    assert ours.status == 201
    on_shared = post(world, f"{base}/notes/{shared}/comments", {"body": "Good news"})
    on_private = post(world, f"{base}/notes/{private}/comments", {"body": "Discussed"})
    on_gone = post(world, f"{base}/notes/{gone}/comments", {"body": "Will remove"})
    assert world.api.delete(f"{base}/notes/{gone}", sw).status == 204
    disputed = world.api.post(
        f"{base}/notes/{shared}/disputes",
        member.token,
        {"statement": "She was not settled at first"},
    )
    assert disputed.status == 201
    agenda_shared = post(
        world,
        f"{base}/agendas",
        {"title": "Next visit", "items": [{"id": uid(), "text": "School"}]},
    )
    agenda_private = post(
        world, f"{base}/agendas", {"title": "Supervision", "visibility": "professionals"}
    )
    plan = post(
        world,
        f"{base}/plans",
        {"title": "Plan", "actions": [{"id": uid(), "text": "Call", "owner": "Sam"}]},
    )
    recording = post(
        world,
        f"{base}/media",
        {"kind": "audio", "contentType": "audio/mp4", "sizeBytes": 10, "visibility": "family"},
    )
    make_ready(family_id, recording)
    photo = post(
        world, f"{base}/media", {"kind": "photo", "contentType": "image/jpeg", "sizeBytes": 10}
    )
    claims = [notification(family_id, visit, parent), notification(family_id, visit, other)]
    seeded.ids = {
        "shared": shared,
        "private": private,
        "gone": gone,
        "ours": ours.body["id"],
        "on_gone": on_gone,
        "recording": recording,
        "previous": current["version"],
        "parent": parent,
    }
    seeded.family_visible = {
        parent,
        other,
        child,
        visit,
        shared,
        ours.body["id"],
        on_shared,
        agenda_shared,
        plan,
        recording,
        claims[0],
    }
    assert {private, on_private, agenda_private, photo, claims[1]}.isdisjoint(seeded.family_visible)
    return seeded


def make_ready(family_id: str, media_id: str) -> None:
    """As the processing function leaves a recording: derivatives and a draft transcript."""
    records = get_runtime().records
    document = records.read(family_id, media_id)
    assert document is not None
    name = f"{family_id}/{media_id}/1/audio.m4a"
    ready = {
        **document,
        "status": "ready",
        "derivatives": [
            {
                "name": name,
                "role": "audio",
                "contentType": "audio/mp4",
                "sizeBytes": 10,
                "sha256": "0" * 64,
            }
        ],
        "transcript": {
            "status": "draft",
            "engine": "pocketsphinx",
            "text": "hello asha",
            "segments": [],
        },
    }
    records.replace(ready, document["_etag"])
    get_runtime().blob_service.get_container_client("derivatives").upload_blob(
        name, b"m4a", overwrite=True
    )


def notification(family_id: str, visit_id: str, member_id: str) -> str:
    claim_id = uid()
    get_runtime().database.get_container_client(RECORDS.name).create_item(
        {
            "id": claim_id,
            "familyId": family_id,
            "type": "notification",
            "kind": "reminder",
            "visitId": visit_id,
            "memberId": member_id,
            "windowMinutes": 1440,
            "visitStartsAt": "2026-12-01T10:00:00Z",
            "status": "sent",
            "attempts": 1,
            "to": "+447700900321",
            "createdAt": "2026-11-30T10:00:00Z",
            "updatedAt": "2026-11-30T10:00:00Z",
            "deleted": False,
        }
    )
    return claim_id


def held(container: str, family_id: str) -> dict[str, dict[str, Any]]:
    rows = (
        get_runtime()
        .database.get_container_client(container)
        .query_items(
            "SELECT * FROM c WHERE c.familyId = @f",
            parameters=[{"name": "@f", "value": family_id}],
            partition_key=family_id,
        )
    )
    return {row["id"]: row for row in rows}


def as_held(document: dict[str, Any]) -> dict[str, Any]:
    shown = {k: v for k, v in document.items() if k not in SYSTEM_FIELDS and k != "requestHash"}
    return {**shown, "version": version_of(document)}


def export(world: World, family_id: str, token: str | None, **params: str) -> Any:
    return world.api.get(f"/families/{family_id}/export", token, params=params)


@pytest.fixture
def seeded(world: World, stack: Emulators) -> Seeded:
    frozen = datetime.now(UTC)
    get_runtime().clock = lambda: frozen
    return seed(world)


def test_a_manager_exports_exactly_everything_held(world: World, seeded: Seeded) -> None:
    sealed = seal_now(seeded.family_id)
    response = export(world, seeded.family_id, world.token("team_manager"))
    assert response.status == 200, response.body
    assert response.header("Content-Disposition").startswith("attachment")
    document = response.body
    records = held(RECORDS.name, seeded.family_id)
    events = {k: v for k, v in held(AUDIT.name, seeded.family_id).items() if v["type"] == "audit"}

    assert document["family"] == as_held(records.pop(seeded.family_id))
    exported = {item["id"]: item for item in document["records"]}
    assert len(exported) == len(document["records"])
    links = exported[seeded.ids["recording"]].pop("links")
    assert exported == {record_id: as_held(row) for record_id, row in records.items()}
    assert {item["id"] for item in document["audit"]} == set(events)
    assert document["audit"] == [as_held(events[item["id"]]) for item in document["audit"]]

    manifest = document["manifest"]
    types = [row["type"] for row in records.values()]
    expected = {t: types.count(t) for t in set(types)} | {"family": 1, "audit": len(events)}
    assert manifest["counts"] == manifest["totals"] == expected
    assert {
        "member": 3,
        "note": 4,
        "noteVersion": 1,
        "comment": 3,
        "media": 2,
        "notification": 2,
    }.items() <= expected.items()
    assert manifest["scope"] == "everything-held"
    assert manifest["complete"] is True
    assert document["next"] is None
    assert manifest["requestedBy"]["id"] == world.people["team_manager"].oid
    assert manifest["requestedBy"]["roles"] == ["TeamManager"]
    assert manifest["auditHead"]["seq"] == sealed == len(events) - 1
    assert manifest["auditPending"] == 1  # the export's own event, written before the head read
    runtime = get_runtime()
    head = Head(**manifest["auditHead"])
    store, anchors, key = runtime.audit_store, runtime.audit_anchors, runtime.audit_key
    assert verify_chain(store, anchors, key, seeded.family_id, head).ok
    assert manifest["linksExpireAt"]

    gone = exported[seeded.ids["gone"]]
    assert gone["deleted"] is True
    assert gone["body"] == "Posted in error"
    assert exported[seeded.ids["on_gone"]]["body"] == "Will remove"
    assert (
        exported[seeded.ids["shared"]]["disputes"][0]["statement"] == "She was not settled at first"
    )
    kept = next(item for item in document["records"] if item["type"] == "noteVersion")
    assert kept["snapshot"]["body"] == "Asha settled at school"
    assert kept["recordVersion"] == seeded.ids["previous"]
    assert exported[seeded.ids["recording"]]["transcript"]["text"] == "hello asha"
    assert links["downloadUrl"].startswith("http")
    assert any(
        e["action"] == "export" and e["actor"]["oid"] == world.people["team_manager"].oid
        for e in document["audit"]
    )


def test_a_family_member_exports_exactly_what_they_may_see(world: World, seeded: Seeded) -> None:
    token = seeded.member.token
    response = export(world, seeded.family_id, token)
    assert response.status == 200, response.body
    document = response.body
    exported = {item["id"]: item for item in document["records"]}
    assert set(exported) == seeded.family_visible

    base = f"/families/{seeded.family_id}"
    for record_id, item in exported.items():
        if item["type"] == "notification":
            assert item["memberId"] == seeded.ids["parent"]
            continue
        collection = {
            "member": "members",
            "visit": "visits",
            "note": "notes",
            "comment": None,
            "agenda": "agendas",
            "plan": "plans",
            "media": "media",
        }[item["type"]]
        if collection is None or collection == "members":
            continue
        seen = world.api.get(f"{base}/{collection}/{record_id}", token)
        assert seen.status == 200
        assert strip_urls(item) == strip_urls(seen.body)

    members = {m["id"]: m for m in world.api.get(f"{base}/members", token).body["items"]}
    for member_id, member in members.items():
        assert exported[member_id] == member
    assert "phone" not in next(m for m in members.values() if m["displayName"] == "Raj Patel")
    comments = world.api.get(f"{base}/notes/{seeded.ids['shared']}/comments", token).body["items"]
    assert [exported[comment["id"]] for comment in comments] == comments
    recording = exported[seeded.ids["recording"]]
    assert "transcript" not in recording
    assert recording["downloadUrl"].startswith("http")
    assert exported[seeded.ids["shared"]]["disputed"] is True

    assert document["audit"]
    assert {e["actor"]["oid"] for e in document["audit"]} == {seeded.member.oid}
    assert any(e["action"] == "export" for e in document["audit"])
    manifest = document["manifest"]
    assert manifest["scope"] == "visible-to-family-member"
    assert manifest["auditHead"] is None
    assert manifest["auditPending"] is None
    types = [item["type"] for item in document["records"]]
    assert manifest["counts"] == {t: types.count(t) for t in set(types)} | {
        "family": 1,
        "audit": len(document["audit"]),
    }
    for staff_only in ("workerIds", "teamId", "retentionClass", "retainUntil"):
        assert staff_only not in document["family"]
    text = json.dumps(document)
    for secret in (
        "Concern about Raj",
        "Posted in error",
        "hello asha",
        "+447700900654",
        "Supervision",
    ):
        assert secret not in text


def test_a_family_member_cannot_tell_an_unshared_record_from_a_deleted_one(
    world: World, seeded: Seeded
) -> None:
    """Sync says ``deleted`` for both; the member's own audit events must not tell them apart."""
    token, sw = seeded.member.token, world.token("social_worker")
    notes = f"/families/{seeded.family_id}/notes"
    unshared, later_shared = seeded.ids["shared"], seeded.ids["private"]
    assert world.api.patch(f"{notes}/{unshared}", sw, {"visibility": "professionals"}).status == 200
    out_of_reach = (unshared, seeded.ids["gone"], later_shared, uid())
    for note_id in out_of_reach:
        assert world.api.get(f"{notes}/{note_id}", token).status == 404
    assert world.api.patch(f"{notes}/{later_shared}", sw, {"visibility": "family"}).status == 200

    audit = export(world, seeded.family_id, token).body["audit"]
    denied = {e["recordId"] for e in audit if e["outcome"] == "denied"}
    assert denied & set(out_of_reach) == {later_shared}  # seen now, so they may see they tried
    everything = export(world, seeded.family_id, world.token("team_manager")).body["audit"]
    assert {unshared, later_shared} <= {
        e["recordId"] for e in everything if e["outcome"] == "denied"
    }


def strip_urls(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in URL_FIELDS}


def test_who_may_export(world: World, seeded: Seeded) -> None:
    family_id = seeded.family_id
    assert export(world, family_id, world.token("head_of_service")).status == 200
    assert export(world, family_id, world.token("social_worker")).status == 403
    assert export(world, family_id, world.token("other_team_manager")).status == 404
    assert export(world, family_id, world.token("admin")).status == 404
    assert export(world, family_id, world.token("other_family_member")).status == 404
    assert export(world, family_id, world.token("family_member")).status == 404
    assert world.api.get(f"/families/{family_id}/export").status == 401


def test_every_export_is_audited(world: World, seeded: Seeded) -> None:
    before = held(AUDIT.name, seeded.family_id)
    export(world, seeded.family_id, world.token("head_of_service"))
    added = [e for i, e in held(AUDIT.name, seeded.family_id).items() if i not in before]
    assert [(e["action"], e["actor"]["oid"], e["detail"]) for e in added] == [
        ("export", world.people["head_of_service"].oid, "part 1")
    ]


def test_a_large_export_comes_in_bounded_parts_that_add_up_to_the_whole(
    world: World, seeded: Seeded
) -> None:
    runtime = get_runtime()
    whole = export(world, seeded.family_id, world.token("team_manager")).body
    principal = runtime.token_validator.authenticate(f"Bearer {world.token('team_manager')}")
    exporter = Exporter(runtime, resolve_caller(runtime, principal), part_bytes=1500, page_size=3)
    parts: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        part = json.loads(exporter.export(seeded.family_id, token))
        parts.append(part)
        token = part["next"]
        if token is None:
            break
    assert len(parts) > 3
    assert [p["manifest"]["part"] for p in parts] == list(range(1, len(parts) + 1))
    assert [p["manifest"]["complete"] for p in parts] == [False] * (len(parts) - 1) + [True]
    assert all(p["manifest"]["generatedAt"] == parts[0]["manifest"]["generatedAt"] for p in parts)
    records = [item for p in parts for item in p["records"]]
    assert sorted(r["id"] for r in records) == sorted(r["id"] for r in whole["records"])
    last = parts[-1]["manifest"]["totals"]
    assert {k: v for k, v in last.items() if k != "audit"} == {
        k: v for k, v in whole["manifest"]["totals"].items() if k != "audit"
    }
    assert last["audit"] == sum(len(p["audit"]) for p in parts)

    first = export(world, seeded.family_id, world.token("team_manager"), next=parts[0]["next"])
    assert first.status == 200
    assert first.body["manifest"]["part"] == 2
    stolen = export(world, seeded.family_id, world.token("head_of_service"), next=parts[0]["next"])
    assert stolen.status == 400
