"""Partner agencies against the real emulators: what they see of a family, what the family is
told, sync and export under grants that begin, change and end, and the audit of it all."""

from __future__ import annotations

import uuid
from typing import Any

from local.emulators import Emulators
from tests.functional.world import ALL_SCOPES, World, expire, grant, partner


def uid() -> str:
    return str(uuid.uuid4())


def base(world: World, family: str | None = None) -> str:
    return f"/families/{family or world.family}"


def pull_all(
    world: World, token: str, since: str | None = None, limit: int = 500
) -> tuple[list[dict[str, Any]], str]:
    changes: list[dict[str, Any]] = []
    while True:
        params = {"limit": str(limit), **({"since": since} if since else {})}
        page = world.api.get("/sync", token, params=params)
        assert page.status == 200, page.body
        changes += page.body["changes"]
        since = page.body["next"]
        if not page.body["more"]:
            return changes, str(since)


def new_note(world: World, visibility: str, family: str | None = None) -> str:
    made = world.api.post(
        f"{base(world, family)}/notes",
        world.token("social_worker"),
        {"body": f"A {visibility} note for partners", "visibility": visibility},
    )
    assert made.status == 201, made.body
    return str(made.body["id"])


def audit_events(world: World, family: str | None = None) -> list[dict[str, Any]]:
    listed = world.api.get(
        f"{base(world, family)}/audit", world.token("team_manager"), params={"limit": "100"}
    )
    assert listed.status == 200, listed.body
    return list(listed.body["items"])


def test_a_partner_sees_the_family_by_id_name_and_team_with_its_version(
    world: World, stack: Emulators
) -> None:
    token = world.token("partner")
    read = world.api.get(base(world), token)
    assert read.status == 200
    assert read.body == {"id": world.family, "displayName": "Jones", "teamId": world.team_a}
    etag = read.header("ETag")
    assert etag is not None
    assert world.api.get(base(world), token, headers={"If-None-Match": etag}).status == 304
    listed = world.api.get("/families", token)
    assert listed.body["items"] == [read.body]
    me = world.api.get("/me", token)
    assert me.body["kind"] == "partner"
    assert me.body["roles"] == ["Partner"]
    assert me.body["familyIds"] == [world.family]


def test_what_a_partner_lists_is_what_their_grant_covers(world: World, stack: Emulators) -> None:
    token = world.token("partner")
    notes = world.api.get(f"{base(world)}/notes", token, params={"limit": "100"})
    assert notes.status == 200
    assert {n["visibility"] for n in notes.body["items"]} == {"family", "partners"}
    members = world.api.get(f"{base(world)}/members", token)
    assert members.status == 404
    narrow = world.token("partner_agendas_only")
    assert world.api.get(f"{base(world)}/notes", narrow).status == 404
    assert world.api.get(f"{base(world)}/agendas", narrow).status == 200


def test_every_partner_read_and_every_grant_decision_is_audited(
    world: World, stack: Emulators
) -> None:
    someone = partner("Lee Ward")
    grant_id = grant(world, world.family, someone, ["notes"])
    note = world.records["note_partners"]
    assert world.api.get(f"{base(world)}/notes/{note}", someone.token).status == 200
    sw = world.token("social_worker")
    changed = world.api.patch(f"{base(world)}/partners/{grant_id}", sw, {"reason": "Review"})
    assert changed.status == 200
    assert world.api.delete(f"{base(world)}/partners/{grant_id}", sw).status == 204
    events = audit_events(world)
    partner_reads = [
        e for e in events if e["actor"]["oid"] == someone.oid and e["recordId"] == note
    ]
    assert [(e["action"], e["actor"]["kind"]) for e in partner_reads] == [("read", "partner")]
    decided = [e["action"] for e in reversed(events) if e["recordId"] == grant_id]
    assert decided == ["grant", "update", "revoke"]
    [granted] = [e for e in events if e["recordId"] == grant_id and e["action"] == "grant"]
    assert '"lawfulBasis":"children-act-1989-s17"' in granted["detail"]
    assert someone.oid in granted["detail"]


def test_revoking_a_grant_ends_access_at_once_and_the_next_pull_tombstones_it_all(
    world: World, stack: Emulators
) -> None:
    someone = partner("Jo Lane")
    grant_id = grant(world, world.family, someone, ALL_SCOPES)
    held, since = pull_all(world, someone.token)
    held_ids = {c["id"] for c in held}
    assert world.records["note_partners"] in held_ids
    assert world.records["note_professionals"] not in held_ids
    assert world.records["member_self"] not in held_ids
    [family] = [c for c in held if c["type"] == "family"]
    assert family["data"] == {"id": world.family, "displayName": "Jones", "teamId": world.team_a}

    sw = world.token("social_worker")
    assert world.api.delete(f"{base(world)}/partners/{grant_id}", sw).status == 204
    note = world.records["note_partners"]
    assert world.api.get(f"{base(world)}/notes/{note}", someone.token).status == 404
    after, _ = pull_all(world, someone.token, since)
    assert {c["id"] for c in after if c["deleted"] and c["data"] is None} == held_ids
    assert all(c["deleted"] for c in after)


def test_sync_under_a_grant_that_ends_mid_pull(world: World, stack: Emulators) -> None:
    someone = partner("Kit Moss")
    ending = grant(world, world.family, someone, ["notes"])
    grant(world, world.other_family, someone, ["notes"])
    kept = new_note(world, "family", world.other_family)
    first = world.api.get("/sync", someone.token, params={"limit": "2"})
    assert first.body["more"]
    sent = {c["id"] for c in first.body["changes"]}
    expire(world.family, ending)
    rest, _ = pull_all(world, someone.token, first.body["next"], limit=2)
    tombstones = {c["id"] for c in rest if c["deleted"]}
    assert {c for c in sent if c != kept and c != world.other_family} <= tombstones
    assert world.records["note_partners"] in tombstones
    assert world.records["note_professionals"] not in tombstones
    live = {c["id"] for c in rest if not c["deleted"]}
    assert world.records["note_partners"] not in live
    assert kept in live | sent
    assert world.api.get(base(world), someone.token).status == 404


def test_a_partners_comment_is_never_shown_to_the_family_when_its_target_is_for_partners(
    world: World, stack: Emulators
) -> None:
    sharing = partner("Ash Grey")
    grant(world, world.family, sharing, ["notes"], writeVisibility="family")
    on_partners = world.records["note_partners"]
    on_family = world.records["note_family"]
    family = world.people["family_member"].token
    for note, expected in ((on_partners, "partners"), (on_family, "family")):
        path = f"{base(world)}/notes/{note}/comments"
        made = world.api.post(path, sharing.token, {"body": "From the health visitor"})
        assert made.status == 201, made.body
        assert made.body["visibility"] == expected
        assert made.body["createdBy"]["kind"] == "partner"
    written = world.api.post(
        f"{base(world)}/notes/{on_family}/comments",
        world.token("partner"),
        {"body": "From the school, for staff and partners"},
    )
    assert written.body["visibility"] == "partners"
    comments = f"{base(world)}/notes/{on_family}/comments"
    shown = world.api.get(comments, family, params={"limit": "100"})
    assert written.body["id"] not in {c["id"] for c in shown.body["items"]}
    assert world.api.get(f"{base(world)}/notes/{on_partners}/comments", family).status == 404
    snapshot, _ = pull_all(world, family)
    assert written.body["id"] not in {c["id"] for c in snapshot}
    exported = world.api.get(f"{base(world)}/export", family).body
    assert written.body["id"] not in {r["id"] for r in exported["records"]}


def test_who_can_see_the_story(world: World, stack: Emulators) -> None:
    staff = world.api.get(f"{base(world)}/access", world.token("social_worker"))
    assert staff.status == 200, staff.body
    family = world.api.get(f"{base(world)}/access", world.token("family_member"))
    assert family.status == 200, family.body
    worker = world.people["social_worker"]
    assert staff.body["workers"] == [{"id": worker.oid, "name": "Sam Patel"}]
    assert staff.body["teams"] == [{"id": world.team_a}]
    granted = {p["id"]: p for p in staff.body["partners"]}
    assert world.grants["partner"] in granted
    assert granted[world.grants["partner"]]["displayName"] == "Dana Head"
    for ended in ("partner_expired", "partner_revoked", "partner_other_family"):
        assert world.grants[ended] not in granted
    for shown in family.body["partners"]:
        assert set(shown) == {"organisation", "agency", "scopes", "expiresAt"}
    assert len(family.body["partners"]) == len(staff.body["partners"])
    assert {"memberId": world.member_self, "memberName": "Pat Jones"} in family.body[
        "familySignIns"
    ]
    assert world.api.get(f"{base(world)}/access", world.token("partner")).status == 404


def test_the_export_lists_the_grants_and_what_partners_read(world: World, stack: Emulators) -> None:
    someone = partner("Mo Reid")
    grant_id = grant(world, world.family, someone, ["notes"])
    shared, hidden = world.records["note_family"], world.records["note_partners"]
    for note in (shared, hidden):
        assert world.api.get(f"{base(world)}/notes/{note}", someone.token).status == 200

    family = world.api.get(f"{base(world)}/export", world.token("family_member")).body
    [told] = [r for r in family["records"] if r["id"] == grant_id]
    assert told["type"] == "partnerGrant"
    assert told["organisation"] == "Hillside Primary School"
    assert told["lawfulBasis"] == "children-act-1989-s17"
    assert told["status"] == "active"
    assert "displayName" not in told
    assert "reason" not in told
    assert "partnerOid" not in told
    reads = [r for r in family["partnerReads"] if r.get("recordId") in {shared, hidden}]
    assert {(r["recordId"], r["action"], r["organisation"]) for r in reads} == {
        (shared, "read", "Hillside Primary School")
    }
    fields = {"at", "action", "recordType", "recordId", "organisation", "agency"}
    assert all(set(r) <= fields for r in family["partnerReads"])

    held = world.api.get(f"{base(world)}/export", world.token("team_manager")).body
    [stored] = [r for r in held["records"] if r["id"] == grant_id]
    assert stored["reason"] == "Core group member for the child protection plan."
    assert stored["partnerOid"] == someone.oid
    assert held["partnerReads"] == []
    by_partner = [e for e in held["audit"] if e["actor"]["oid"] == someone.oid]
    assert {e["recordId"] for e in by_partner} >= {shared, hidden}


def test_a_partner_pushes_what_they_may_write_and_nothing_else(
    world: World, stack: Emulators
) -> None:
    token = world.token("partner")
    plan = world.api.post(
        f"{base(world)}/plans",
        world.token("social_worker"),
        {
            "title": "Core group plan",
            "visibility": "partners",
            "actions": [{"id": uid(), "text": "Breakfast club", "owner": world.grants["partner"]}],
        },
    ).body
    operations = [
        {
            "opId": uid(),
            "type": "comment",
            "action": "create",
            "id": uid(),
            "familyId": world.family,
            "data": {
                "targetType": "notes",
                "targetId": world.records["note_family"],
                "body": "Written offline",
            },
        },
        {
            "opId": uid(),
            "type": "agendaItem",
            "action": "create",
            "id": uid(),
            "familyId": world.family,
            "data": {"agendaId": world.records["agenda_partners"], "text": "Attendance"},
        },
        {
            "opId": uid(),
            "type": "plan",
            "action": "update",
            "id": plan["id"],
            "familyId": world.family,
            "baseVersion": plan["version"],
            "data": {"actions": [{**plan["actions"][0], "status": "in_progress"}]},
        },
        {
            "opId": uid(),
            "type": "note",
            "action": "create",
            "id": uid(),
            "familyId": world.family,
            "data": {"body": "A partner may not write notes"},
        },
    ]
    pushed = world.api.post("/sync", token, {"operations": operations})
    assert pushed.status == 200, pushed.body
    statuses = [r["status"] for r in pushed.body["results"]]
    assert statuses == ["applied", "applied", "applied", "rejected"]
    assert pushed.body["results"][3]["problem"]["status"] == 403
    changed = world.api.get(f"{base(world)}/plans/{plan['id']}", token).body
    assert changed["actions"][0]["status"] == "in_progress"
