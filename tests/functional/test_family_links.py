"""Family sign-ins linked to a member: listed by staff, revoked at once, on REST and in sync."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from local.emulators import Emulators
from shared.bootstrap import get_runtime
from tests.functional.test_sync import Device
from tests.functional.world import World, link_family_member
from tests.tokens import family_token

LINK_FIELDS = {"id", "linkedAt", "lastSeenAt"}


def uid() -> str:
    return str(uuid.uuid4())


def new_member(world: World, phone: str) -> str:
    made = world.api.post(
        f"/families/{world.family}/members",
        world.token("social_worker"),
        {"displayName": "Pat Jones", "relationship": "mother", "phone": phone},
    )
    assert made.status == 201, made.body
    return str(made.body["id"])


def sign_in(world: World, member_id: str, phone: str, oid: str | None = None) -> str:
    """A new sign-in (device) linked to the member by redeeming a fresh invitation."""
    invited = world.api.post(
        f"/families/{world.family}/invitations",
        world.token("social_worker"),
        {"memberId": member_id},
    )
    assert invited.status == 201, invited.body
    token = family_token(oid=oid or uid(), phone_number=phone, phone_number_verified=True)
    redeemed = world.api.post("/invitations/redeem", token, {"code": invited.body["code"]})
    assert redeemed.status == 200, redeemed.body
    return token


def links_path(world: World, member_id: str) -> str:
    return f"/families/{world.family}/members/{member_id}/links"


def links(world: World, member_id: str, role: str = "social_worker") -> list[dict[str, Any]]:
    listed = world.api.get(links_path(world, member_id), world.token(role))
    assert listed.status == 200, listed.body
    assert listed.body["next"] is None
    return list(listed.body["items"])


def only_link(world: World, member_id: str) -> str:
    [link] = links(world, member_id)
    return str(link["id"])


def revoke(world: World, member_id: str, link_id: str, role: str = "social_worker") -> Any:
    return world.api.delete(f"{links_path(world, member_id)}/{link_id}", world.token(role))


def test_a_member_may_have_several_sign_ins_and_staff_list_them(
    world: World, stack: Emulators
) -> None:
    phone = "+447700900701"
    member = new_member(world, phone)
    handset = sign_in(world, member, phone)
    tablet = sign_in(world, member, phone)

    for role in ("social_worker", "team_manager", "head_of_service"):
        listed = links(world, member, role)
        assert len(listed) == 2
        for link in listed:
            assert set(link) <= LINK_FIELDS
            assert {"id", "linkedAt"} <= set(link)
            assert uuid.UUID(link["id"])
    for token in (handset, tablet):
        assert world.api.get(f"/families/{world.family}", token).status == 200


def test_links_are_paged_like_any_list(world: World, stack: Emulators) -> None:
    phone = "+447700900702"
    member = new_member(world, phone)
    for _ in range(3):
        sign_in(world, member, phone)
    sw = world.token("social_worker")
    first = world.api.get(links_path(world, member), sw, params={"limit": "2"})
    assert first.status == 200
    assert len(first.body["items"]) == 2
    rest = world.api.get(links_path(world, member), sw, params={"next": first.body["next"]})
    assert len(rest.body["items"]) == 1
    assert rest.body["next"] is None
    seen = [link["id"] for link in first.body["items"] + rest.body["items"]]
    assert sorted(seen) == sorted(link["id"] for link in links(world, member))
    assert world.api.get(links_path(world, member), sw, params={"limit": "0"}).status == 400


def test_revoking_a_sign_in_takes_the_family_away_at_once(world: World, stack: Emulators) -> None:
    phone = "+447700900703"
    member = new_member(world, phone)
    handset = sign_in(world, member, phone)
    handset_link = only_link(world, member)
    tablet = sign_in(world, member, phone)
    family = f"/families/{world.family}"
    for path in (family, f"{family}/notes", f"{family}/members", "/families", "/me"):
        assert world.api.get(path, handset).status == 200

    assert revoke(world, member, handset_link).status == 204

    assert world.api.get(family, handset).status == 404
    assert world.api.get(f"{family}/notes", handset).status == 404
    assert world.api.post(f"{family}/notes", handset, {"body": "Still here?"}).status == 404
    assert world.api.get("/families", handset).body["items"] == []
    assert world.api.get("/me", handset).body["familyIds"] == []
    assert world.api.get(family, tablet).status == 200
    assert handset_link not in {link["id"] for link in links(world, member)}
    assert revoke(world, member, handset_link).status == 404


def test_every_revocation_is_an_audit_event(world: World, stack: Emulators) -> None:
    phone = "+447700900704"
    member = new_member(world, phone)
    sign_in(world, member, phone)
    link = only_link(world, member)
    assert revoke(world, member, link, "team_manager").status == 204
    audit = world.api.get(
        f"/families/{world.family}/audit", world.token("head_of_service"), params={"limit": "100"}
    )
    [revoked] = [
        e for e in audit.body["items"] if e["action"] == "revoke" and e["recordId"] == link
    ]
    assert (revoked["recordType"], revoked["outcome"]) == ("link", "ok")
    assert revoked["actor"]["oid"] == world.people["team_manager"].oid


def test_a_revoked_devices_next_pull_tombstones_everything_it_held(
    world: World, stack: Emulators
) -> None:
    phone = "+447700900705"
    member = new_member(world, phone)
    token = sign_in(world, member, phone)
    link = only_link(world, member)
    device = Device(world.api, token)
    device.pull()
    held = {key for key, change in device.records.items() if change["familyId"] == world.family}
    assert {("family", world.family), ("member", member)} <= held
    assert ("note", world.records["note_family"]) in held

    assert revoke(world, member, link).status == 204
    device.pulled.clear()
    device.pull()

    tombstoned = {(c["type"], c["id"]) for c in device.pulled if c["deleted"]}
    assert held <= tombstoned
    assert all(c["data"] is None for c in device.pulled if c["deleted"])
    assert not device.records


def test_a_revocation_between_the_pages_of_a_pull_still_tombstones_everything(
    world: World, stack: Emulators
) -> None:
    phone = "+447700900706"
    member = new_member(world, phone)
    token = sign_in(world, member, phone)
    link = only_link(world, member)
    device = Device(world.api, token)
    device.pull()
    for n in range(3):
        made = world.api.post(
            f"/families/{world.family}/notes",
            world.token("social_worker"),
            {"body": f"Shared {n}", "visibility": "family"},
        )
        assert made.status == 201
    first = world.api.get("/sync", token, params={"since": str(device.since), "limit": "1"})
    assert first.status == 200
    assert first.body["more"] is True
    device.since = first.body["next"]

    assert revoke(world, member, link).status == 204
    device.pull(limit=1)
    device.pull(limit=1)

    assert not [key for key, c in device.records.items() if c["familyId"] == world.family]


def test_a_revocation_between_the_pages_of_a_snapshot_still_tombstones_everything(
    world: World, stack: Emulators
) -> None:
    phone = "+447700900713"
    member = new_member(world, phone)
    token = sign_in(world, member, phone)
    link = only_link(world, member)
    device = Device(world.api, token)
    first = world.api.get("/sync", token, params={"limit": "2"})
    assert first.status == 200
    assert first.body["more"] is True
    for change in first.body["changes"]:
        device.records[(change["type"], change["id"])] = change
    assert device.records
    device.since = first.body["next"]

    assert revoke(world, member, link).status == 204
    device.pull(limit=2)
    device.pull(limit=2)

    assert not [key for key, c in device.records.items() if c["familyId"] == world.family]


def test_revocation_by_a_role_the_contract_does_not_allow_changes_nothing(
    world: World, stack: Emulators
) -> None:
    phone = "+447700900707"
    member = new_member(world, phone)
    token = sign_in(world, member, phone)
    link = only_link(world, member)
    expected = {
        "family_member": 403,
        "other_social_worker": 404,
        "other_team_manager": 404,
        "admin": 404,
        "other_family_member": 404,
        "anonymous": 401,
    }
    assert {role: revoke(world, member, link, role).status for role in expected} == expected
    assert world.api.get(links_path(world, member), world.token("family_member")).status == 403
    assert world.api.get(links_path(world, member), world.token("admin")).status == 404
    assert only_link(world, member) == link
    assert world.api.get(f"/families/{world.family}", token).status == 200


def test_a_link_is_revoked_only_through_its_own_member(world: World, stack: Emulators) -> None:
    phone = "+447700900708"
    member = new_member(world, phone)
    sign_in(world, member, phone)
    link = only_link(world, member)
    other = new_member(world, "+447700900709")
    assert revoke(world, other, link).status == 404
    assert revoke(world, member, str(uuid.uuid4())).status == 404
    assert revoke(world, member, "not-a-uuid").status == 404
    assert only_link(world, member) == link


def test_a_sign_in_linked_before_links_were_listed_can_be_listed_and_revoked(
    world: World, stack: Emulators
) -> None:
    phone = "+447700900710"
    member = new_member(world, phone)
    legacy = link_family_member(world.family, member, phone)
    [link] = links(world, member)
    assert set(link) <= LINK_FIELDS
    assert links(world, member) == [link]
    assert world.api.get(f"/families/{world.family}", legacy.token).status == 200

    assert revoke(world, member, link["id"]).status == 204

    assert world.api.get(f"/families/{world.family}", legacy.token).status == 404
    assert links(world, member) == []


def test_a_member_shows_as_linked_until_its_last_sign_in_is_revoked(
    world: World, stack: Emulators
) -> None:
    phone = "+447700900711"
    member = new_member(world, phone)
    sw = world.token("social_worker")

    def linked() -> bool:
        listed = world.api.get(
            f"/families/{world.family}/members", sw, params={"limit": "100"}
        ).body["items"]
        return bool(next(m for m in listed if m["id"] == member)["linked"])

    assert not linked()
    sign_in(world, member, phone)
    sign_in(world, member, phone)
    assert linked()
    first, second = (link["id"] for link in links(world, member))
    assert revoke(world, member, first).status == 204
    assert linked()
    assert revoke(world, member, second).status == 204
    assert not linked()


def test_last_seen_is_written_at_most_once_an_hour(world: World, stack: Emulators) -> None:
    runtime = get_runtime()
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    runtime.clock = lambda: now
    phone = "+447700900712"
    member = new_member(world, phone)
    oid = uid()
    token = sign_in(world, member, phone, oid)
    profile = f"familylink:{runtime.settings.family_tenant_id}:{oid}"

    def seen() -> str | None:
        [link] = links(world, member)
        return link.get("lastSeenAt")

    assert seen() == "2026-12-07T09:00:00.000Z"
    now += timedelta(minutes=59)
    written = runtime.directory.read(profile)
    assert world.api.get(f"/families/{world.family}", token).status == 200
    assert runtime.directory.read(profile) == written
    assert seen() == "2026-12-07T09:00:00.000Z"
    now += timedelta(minutes=2)
    assert world.api.get(f"/families/{world.family}", token).status == 200
    assert seen() == "2026-12-07T10:01:00.000Z"
