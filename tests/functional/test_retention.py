"""Retention and disposal with a frozen clock: retainUntil shown to staff, legal hold, the two
stages of disposal with a certificate that outlives the family, a crash midway and a rerun,
and the purge of draft tombstones."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from local.emulators import Emulators
from shared.bootstrap import get_runtime
from shared.retention.disposal import DisposalReport, Disposer
from shared.retention.rules import add_years
from shared.storage_layout import AUDIT, BLOB_CONTAINERS, DIRECTORY, DISPOSALS, RECORDS
from tests.functional.world import World, link_family_member, uid

NOW = datetime.now(UTC).replace(microsecond=0)
TODAY = NOW.date()


class CrashError(Exception):
    """A run that stops dead, as when its instance is recycled."""


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock(stack: Emulators) -> Clock:
    frozen = Clock(NOW)
    get_runtime().clock = frozen
    return frozen


def stamp(day: date) -> str:
    return f"{day.isoformat()}T12:00:00Z"


def closed_child_in_need_family(world: World) -> str:
    """A child-in-need family closed 3 years (and a day) ago whose only child is now 21: its
    manager set the retention and recorded the child; its social worker the rest."""
    sw, tm = world.token("social_worker"), world.token("team_manager")
    closed = add_years(TODAY, -3) - timedelta(days=1)
    made = world.api.post(
        "/families",
        tm,
        {
            "displayName": "Walker",
            "teamId": world.team_a,
            "workerIds": [world.people["social_worker"].oid],
            "retentionClass": "child-in-need",
            "closedAt": stamp(closed),
        },
    )
    assert made.status == 201, made.body
    family_id = str(made.body["id"])
    base = f"/families/{family_id}"
    born = add_years(TODAY, -21) - timedelta(days=30)
    child = world.api.post(
        f"{base}/members",
        tm,
        {
            "displayName": "Robin Walker",
            "relationship": "child",
            "child": True,
            "dateOfBirth": born.isoformat(),
        },
    )
    assert child.status == 201, child.body
    mother = world.api.post(
        f"{base}/members", sw, {"displayName": "Sue Walker", "relationship": "mother"}
    )
    signed_in = link_family_member(family_id, mother.body["id"], "+447700900777")
    records = get_runtime().records
    member = records.read(family_id, mother.body["id"])
    assert member is not None
    identity = {"tid": get_runtime().settings.family_tenant_id, "oid": signed_in.oid}
    records.replace({**member, "identity": identity}, member["_etag"])
    world.api.post(
        f"{base}/visits",
        sw,
        {"startsAt": "2022-01-10T10:00:00Z", "endsAt": "2022-01-10T11:00:00Z"},
    )
    note = world.api.post(f"{base}/notes", sw, {"body": "Robin's school", "visibility": "family"})
    world.api.post(f"{base}/notes/{note.body['id']}/comments", sw, {"body": "Seen"})
    world.api.patch(f"{base}/notes/{note.body['id']}", sw, {"body": "Robin's new school"})
    world.api.delete(
        f"{base}/notes/{world.api.post(f'{base}/notes', sw, {'body': 'Typo'}).body['id']}", sw
    )
    media = world.api.post(
        f"{base}/media", sw, {"kind": "photo", "contentType": "image/jpeg", "sizeBytes": 3}
    )
    assert media.status == 201, media.body
    service = get_runtime().blob_service
    stem = f"{family_id}/{media.body['id']}"
    for container, name in (
        ("originals", stem),
        ("derivatives", f"{stem}/photo.jpg"),
        ("derivatives", f"{stem}/small.jpg"),
        ("uploads", f"{family_id}/{uid()}"),
    ):
        service.get_container_client(container).upload_blob(name, b"jpg", overwrite=True)
    return family_id


def records_of(family_id: str) -> list[dict[str, Any]]:
    container = get_runtime().database.get_container_client(RECORDS.name)
    return list(
        container.query_items(
            "SELECT * FROM c WHERE c.familyId = @f",
            parameters=[{"name": "@f", "value": family_id}],
            partition_key=family_id,
        )
    )


def audit_of(family_id: str) -> list[dict[str, Any]]:
    container = get_runtime().database.get_container_client(AUDIT.name)
    return list(
        container.query_items(
            "SELECT * FROM c WHERE c.familyId = @f",
            parameters=[{"name": "@f", "value": family_id}],
            partition_key=family_id,
        )
    )


def blobs_of(family_id: str) -> list[str]:
    service = get_runtime().blob_service
    return [
        f"{name}/{blob.name}"
        for name in BLOB_CONTAINERS
        for blob in service.get_container_client(name).list_blobs(name_starts_with=f"{family_id}/")
    ]


def links_to(family_id: str) -> list[str]:
    container = get_runtime().database.get_container_client(DIRECTORY.name)
    rows = container.query_items(
        "SELECT VALUE c.id FROM c WHERE c.type = 'familylink'", enable_cross_partition_query=True
    )
    links = [get_runtime().directory.read(str(row)) or {} for row in rows]
    return [str(link["id"]) for link in links if family_id in link.get("memberships", {})]


def certificate(family_id: str) -> dict[str, Any] | None:
    from azure.cosmos.exceptions import CosmosResourceNotFoundError

    container = get_runtime().database.get_container_client(DISPOSALS.name)
    try:
        found: dict[str, Any] = container.read_item(family_id, family_id)
    except CosmosResourceNotFoundError:
        return None
    return found


def past_the_tombstone_lifetime(clock: Clock) -> None:
    clock.advance(timedelta(days=get_runtime().settings.sync_tombstone_days + 1))


def test_staff_see_retain_until_and_families_do_not(world: World, clock: Clock) -> None:
    family_id = closed_child_in_need_family(world)
    shown = world.api.get(f"/families/{family_id}", world.token("team_manager")).body
    assert shown["retentionClass"] == "child-in-need"
    assert shown["retainUntil"] == (TODAY - timedelta(days=1)).isoformat()
    assert shown["retentionPending"] == []
    assert shown["legalHold"] is False

    hidden = world.api.get(f"/families/{world.family}", world.token("family_member")).body
    for name in ("retainUntil", "retentionPending", "retentionClass", "legalHold", "closedAt"):
        assert name not in hidden


def test_retain_until_follows_the_dates_it_depends_on(world: World, clock: Clock) -> None:
    sw, tm = world.token("social_worker"), world.token("team_manager")
    made = world.api.post(
        "/families",
        tm,
        {
            "displayName": "Lane",
            "teamId": world.team_a,
            "workerIds": [world.people["social_worker"].oid],
            "retentionClass": "looked-after",
        },
    )
    path = f"/families/{made.body['id']}"
    assert "retainUntil" not in made.body
    assert made.body["retentionPending"] == ["a member marked child"]
    child = world.api.post(
        f"{path}/members",
        sw,
        {"displayName": "Ash", "relationship": "son", "child": True, "dateOfBirth": "2015-06-01"},
    )
    assert world.api.get(path, tm).body["retainUntil"] == "2090-06-01"
    died = world.api.patch(f"{path}/members/{child.body['id']}", tm, {"dateOfDeath": "2021-01-02"})
    assert died.status == 200, died.body
    assert world.api.get(path, tm).body["retainUntil"] == "2036-01-02"
    adoption = world.api.patch(
        path, tm, {"retentionClass": "adoption", "adoptionOrderAt": "2022-03-04T10:00:00Z"}
    )
    assert adoption.body["retainUntil"] == "2122-03-04"
    reopened = world.api.patch(path, tm, {"retentionClass": "default", "closedAt": None})
    assert reopened.status == 200, reopened.body
    assert "retainUntil" not in reopened.body
    assert reopened.body["retentionPending"] == ["closedAt"]
    bad = world.api.patch(f"{path}/members/{child.body['id']}", sw, {"dateOfDeath": "2001-01-01"})
    assert bad.status == 422


def test_only_managers_set_and_clear_a_legal_hold_and_it_is_audited(
    world: World, clock: Clock
) -> None:
    family_id = closed_child_in_need_family(world)
    path = f"/families/{family_id}"
    refused = world.api.patch(path, world.token("social_worker"), {"legalHold": True})
    assert refused.status == 403
    assert refused.body["errors"] == [{"loc": ["body", "legalHold"], "type": "forbidden_field"}]
    assert world.api.patch(path, world.token("team_manager"), {"legalHold": True}).status == 200
    assert world.api.patch(path, world.token("head_of_service"), {"legalHold": False}).status == 200
    actions = [e["action"] for e in audit_of(family_id)]
    assert actions.count("legal-hold-set") == 1
    assert actions.count("legal-hold-cleared") == 1


def test_a_closed_child_in_need_family_of_a_child_now_21_is_disposed_of_with_a_certificate(
    world: World, clock: Clock
) -> None:
    family_id = closed_child_in_need_family(world)
    held_before = {r["type"] for r in records_of(family_id)}
    assert {"family", "member", "visit", "note", "noteVersion", "comment", "media"} <= held_before
    counts = {t: sum(r["type"] == t for r in records_of(family_id)) for t in held_before}
    assert len(links_to(family_id)) == 1

    first = Disposer(get_runtime()).run()
    assert first.withdrawn >= 1
    assert world.api.get(f"/families/{family_id}", world.token("social_worker")).status == 404
    assert family_id not in {
        f["id"] for f in world.api.get("/families", world.token("head_of_service")).body["items"]
    }
    assert len(blobs_of(family_id)) == 4
    assert certificate(family_id) is None

    past_the_tombstone_lifetime(clock)
    events = len([event for event in audit_of(family_id) if event["type"] == "audit"])
    second = Disposer(get_runtime()).run()
    assert family_id in second.certificates
    assert records_of(family_id) == []
    assert audit_of(family_id) == []
    assert blobs_of(family_id) == []

    issued = certificate(family_id)
    assert issued is not None
    assert issued["status"] == "complete"
    assert issued["retentionClass"] == "child-in-need"
    assert (
        issued["rule"]
        == "3 years after the later of the youngest child's 18th birthday and closure"
    )
    assert issued["retainUntil"] == (TODAY - timedelta(days=1)).isoformat()
    assert issued["destroyed"]["records"] == counts
    assert issued["destroyed"]["auditEvents"] == events
    assert issued["destroyed"]["blobs"] == {"uploads": 1, "originals": 1, "derivatives": 2}
    assert issued["destroyed"]["memberLinks"] == 1
    assert links_to(family_id) == []
    assert issued["audit"]["verified"] is True
    assert issued["audit"]["head"]["seq"] == events
    assert issued["audit"]["pending"] == 0
    assert issued["remaining"] == {"records": 0, "auditEvents": 0, "blobs": 0}
    text = json.dumps(issued)
    for personal in ("Walker", "Robin", "Sue", "school", world.people["social_worker"].oid):
        assert personal not in text

    third = Disposer(get_runtime()).run()
    assert family_id not in third.certificates
    assert third.failed == 0
    assert certificate(family_id) == issued

    listed = world.api.get("/disposals", world.token("head_of_service"), params={"limit": "100"})
    assert listed.status == 200
    shown = next(item for item in listed.body["items"] if item["id"] == family_id)
    assert shown["destroyed"] == issued["destroyed"]
    for role in ("team_manager", "social_worker", "family_member", "admin"):
        assert world.api.get("/disposals", world.token(role)).status == 403


def test_the_same_family_under_legal_hold_is_kept(world: World, clock: Clock) -> None:
    family_id = closed_child_in_need_family(world)
    assert (
        world.api.patch(
            f"/families/{family_id}", world.token("team_manager"), {"legalHold": True}
        ).status
        == 200
    )
    held = len(records_of(family_id))
    for _ in range(2):
        report = Disposer(get_runtime()).run()
        assert report.held >= 1
        past_the_tombstone_lifetime(clock)
    assert world.api.get(f"/families/{family_id}", world.token("social_worker")).status == 200
    assert len(records_of(family_id)) == held
    assert len(blobs_of(family_id)) == 4
    assert certificate(family_id) is None


@pytest.mark.parametrize("stop_at", ["links", "blobs", "records", "audit", "family"])
def test_a_run_that_crashes_midway_is_finished_by_the_next(
    world: World, clock: Clock, stop_at: str
) -> None:
    family_id = closed_child_in_need_family(world)
    Disposer(get_runtime()).run()
    past_the_tombstone_lifetime(clock)
    before = {t: sum(r["type"] == t for r in records_of(family_id)) for t in ("note", "member")}

    def crash(crashing_family: str, stage: str, deleted: int) -> None:
        if crashing_family == family_id and stage == stop_at:
            raise CrashError(stage)

    with pytest.raises(CrashError):
        Disposer(get_runtime(), batch_size=2, checkpoint=crash).run()
    midway = certificate(family_id)
    assert midway is not None
    assert midway["status"] == "destroying"

    rerun: DisposalReport = Disposer(get_runtime()).run()
    assert family_id in rerun.certificates
    assert rerun.failed == 0
    if stop_at == "family":
        assert rerun.resumed >= 1
    finished = certificate(family_id)
    assert finished is not None
    assert finished["status"] == "complete"
    assert finished["destroyed"] == midway["destroyed"]
    assert {t: finished["destroyed"]["records"][t] for t in before} == before
    assert records_of(family_id) == []
    assert audit_of(family_id) == []
    assert blobs_of(family_id) == []
    assert links_to(family_id) == []


def test_a_stale_stored_retain_until_never_brings_a_disposal_forward(
    world: World, clock: Clock
) -> None:
    made = world.api.post(
        "/families",
        world.token("team_manager"),
        {
            "displayName": "Young",
            "teamId": world.team_a,
            "workerIds": [world.people["social_worker"].oid],
            "retentionClass": "looked-after",
        },
    )
    family_id = made.body["id"]
    world.api.post(
        f"/families/{family_id}/members",
        world.token("social_worker"),
        {"displayName": "Bo", "relationship": "son", "child": True, "dateOfBirth": "2020-01-01"},
    )
    records = get_runtime().records
    family = records.read(family_id, family_id)
    assert family is not None
    records.replace({**family, "retainUntil": "2001-01-01"}, family["_etag"])

    report = Disposer(get_runtime()).run()
    assert report.not_yet_due >= 1
    stored = records.read(family_id, family_id)
    assert stored is not None
    assert stored["retainUntil"] == "2095-01-01"
    assert stored["deleted"] is False


def test_draft_tombstones_are_purged_after_their_lifetime_and_the_record_is_kept(
    world: World, stack: Emulators
) -> None:
    sw = world.token("social_worker")
    notes = f"/families/{world.family}/notes"
    draft = world.api.post(notes, sw, {"body": "Wrong family"}).body["id"]
    settled = world.api.post(notes, sw, {"body": "Shared", "visibility": "family"}).body["id"]
    for note_id in (draft, settled):
        assert world.api.delete(f"{notes}/{note_id}", sw).status == 204
    runtime = get_runtime()
    Disposer(runtime).run()
    assert runtime.records.read(world.family, draft) is not None
    later = datetime.now(UTC) + timedelta(days=runtime.settings.sync_tombstone_days + 3)
    runtime.clock = lambda: later
    report = Disposer(runtime).run()
    assert report.tombstones_purged >= 1
    assert runtime.records.read(world.family, draft) is None
    kept = runtime.records.read(world.family, settled)
    assert kept is not None
    assert kept["deleted"] is True
    assert kept["body"] == "Shared"


def test_draft_tombstones_of_a_family_under_legal_hold_are_kept(
    world: World, stack: Emulators
) -> None:
    sw = world.token("social_worker")
    made = world.api.post("/families", sw, {"displayName": "Held", "teamId": world.team_a})
    family_id = made.body["id"]
    draft = world.api.post(f"/families/{family_id}/notes", sw, {"body": "Draft"}).body["id"]
    assert world.api.delete(f"/families/{family_id}/notes/{draft}", sw).status == 204
    hold = world.api.patch(
        f"/families/{family_id}", world.token("team_manager"), {"legalHold": True}
    )
    assert hold.status == 200
    runtime = get_runtime()
    later = datetime.now(UTC) + timedelta(days=runtime.settings.sync_tombstone_days + 3)
    runtime.clock = lambda: later
    Disposer(runtime).run()
    assert runtime.records.read(family_id, draft) is not None
