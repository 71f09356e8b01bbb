"""A borough in miniature: teams, staff of every role, families, members and records."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from shared.bootstrap import get_runtime
from shared.records.store import now_iso
from shared.storage_layout import DIRECTORY
from tests.functional.api import InProcessApi
from tests.tokens import family_token, staff_token

ALL_SCOPES = ["visits", "agendas", "plans", "notes", "media"]


def uid() -> str:
    return str(uuid.uuid4())


@dataclass
class Person:
    oid: str
    token: str
    name: str


@dataclass
class World:
    api: InProcessApi
    team_a: str = field(default_factory=uid)
    team_b: str = field(default_factory=uid)
    people: dict[str, Person] = field(default_factory=dict)
    family: str = ""
    other_family: str = ""
    records: dict[str, str] = field(default_factory=dict)
    member_self: str = ""
    grants: dict[str, str] = field(default_factory=dict)  # by the partner's role name

    def token(self, role: str) -> str | None:
        return None if role == "anonymous" else self.people[role].token


def staff(role: str, name: str, teams: list[str]) -> Person:
    oid = uid()
    runtime = get_runtime()
    runtime.database.get_container_client(DIRECTORY.name).upsert_item(
        {
            "id": f"staff:{runtime.settings.staff_tenant_id}:{oid}",
            "type": "staff",
            "oid": oid,
            "displayName": name,
            "teamIds": teams,
        }
    )
    return Person(oid, staff_token(role, oid=oid, name=name), name)


def link_family_member(family_id: str, member_id: str, phone: str) -> Person:
    oid = uid()
    runtime = get_runtime()
    runtime.database.get_container_client(DIRECTORY.name).upsert_item(
        {
            "id": f"familylink:{runtime.settings.family_tenant_id}:{oid}",
            "type": "familylink",
            "memberships": {family_id: member_id},
        }
    )
    return Person(oid, family_token(oid=oid, name="Pat Jones", phone_number=phone), "Pat Jones")


def partner(name: str, roles: tuple[str, ...] = ("Partner",)) -> Person:
    """A partner agency's professional: a guest of the workforce tenant with the Partner role
    (or, to show what a token lacking it gets, with ``roles`` instead)."""
    oid = uid()
    return Person(oid, staff_token(*roles, oid=oid, name=name), name)


def grant(
    world: World,
    family: str,
    person: Person,
    scopes: list[str],
    days: int = 90,
    **fields: object,
) -> str:
    """A grant of ``family`` to ``person``, made by the allocated social worker."""
    end = (datetime.now(UTC) + timedelta(days=days)).isoformat(timespec="seconds")
    made = world.api.post(
        f"/families/{family}/partners",
        world.token("social_worker"),
        {
            "partnerOid": person.oid,
            "displayName": person.name,
            "organisation": "Hillside Primary School",
            "agency": "education",
            "scopes": scopes,
            "lawfulBasis": "children-act-1989-s17",
            "reason": "Core group member for the child protection plan.",
            "expiresAt": end,
            **fields,
        },
    )
    assert made.status == 201, made.body
    return str(made.body["id"])


def expire(family: str, grant_id: str) -> None:
    """Move a grant's end into the past, as time would."""
    records = get_runtime().records
    stored = records.read(family, grant_id)
    assert stored is not None
    ended = now_iso(datetime.now(UTC) - timedelta(minutes=1))
    records.replace({**stored, "expiresAt": ended}, str(stored["_etag"]))


def add_partners(world: World) -> None:
    """Partners of every kind the matrix tells apart: granted every kind of record, granted
    agendas only, expired, revoked, granted another family, and a token lacking the role."""
    people = world.people
    people["partner"] = partner("Dana Head")
    people["partner_agendas_only"] = partner("Robin Vale")
    people["partner_expired"] = partner("Jamie Fox")
    people["partner_revoked"] = partner("Alex Moss")
    people["partner_other_family"] = partner("Sam Reed")
    people["partner_without_role"] = partner("Chris Bell", roles=())
    family = world.family
    world.grants["partner"] = grant(world, family, people["partner"], ALL_SCOPES)
    world.grants["partner_agendas_only"] = grant(
        world, family, people["partner_agendas_only"], ["agendas"]
    )
    expired = grant(world, family, people["partner_expired"], ALL_SCOPES, days=1)
    expire(family, expired)
    world.grants["partner_expired"] = expired
    revoked = grant(world, family, people["partner_revoked"], ALL_SCOPES)
    gone = world.api.delete(f"/families/{family}/partners/{revoked}", world.token("social_worker"))
    assert gone.status == 204, gone.body
    world.grants["partner_revoked"] = revoked
    world.grants["partner_other_family"] = grant(
        world, world.other_family, people["partner_other_family"], ALL_SCOPES
    )
    world.grants["partner_without_role"] = grant(
        world, family, people["partner_without_role"], ALL_SCOPES
    )


def build_world(api: InProcessApi) -> World:
    world = World(api)
    people = world.people
    people["social_worker"] = staff("SocialWorker", "Sam Patel", [world.team_a])
    people["other_social_worker"] = staff("SocialWorker", "Kim Lee", [world.team_a])
    people["team_manager"] = staff("TeamManager", "Ali Khan", [world.team_a])
    people["other_team_manager"] = staff("TeamManager", "Jo Smith", [world.team_b])
    people["head_of_service"] = staff("HeadOfService", "Chris Ward", [])
    people["admin"] = staff("Admin", "Ash Admin", [])
    sw = people["social_worker"].token

    family = api.post("/families", sw, {"displayName": "Jones", "teamId": world.team_a})
    assert family.status == 201, family.body
    world.family = family.body["id"]
    other = api.post("/families", sw, {"displayName": "Brown", "teamId": world.team_a})
    world.other_family = other.body["id"]

    base = f"/families/{world.family}"
    parent = api.post(
        f"{base}/members",
        sw,
        {
            "displayName": "Pat Jones",
            "relationship": "mother",
            "phone": "+447700900123",
            "smsReminders": True,
        },
    )
    assert parent.status == 201, parent.body
    sibling = api.post(
        f"{base}/members",
        sw,
        {"displayName": "Lee Jones", "relationship": "father", "phone": "+447700900456"},
    )
    world.member_self = parent.body["id"]
    world.records["member_self"] = parent.body["id"]
    world.records["member_other"] = sibling.body["id"]
    other_member = api.post(
        f"/families/{world.other_family}/members",
        sw,
        {"displayName": "Max Brown", "relationship": "father"},
    )
    people["family_member"] = link_family_member(world.family, parent.body["id"], "+447700900123")
    people["other_family_member"] = link_family_member(
        world.other_family, other_member.body["id"], "+447700900999"
    )

    visit = api.post(
        f"{base}/visits",
        sw,
        {"startsAt": "2026-12-01T10:00:00Z", "endsAt": "2026-12-01T11:00:00Z", "location": "Home"},
    )
    world.records["visit"] = visit.body["id"]
    for visibility in ("family", "partners", "professionals"):
        note = api.post(
            f"{base}/notes", sw, {"body": f"A {visibility} note", "visibility": visibility}
        )
        world.records[f"note_{visibility}"] = note.body["id"]
        agenda = api.post(
            f"{base}/agendas",
            sw,
            {
                "title": "Agenda",
                "visibility": visibility,
                "items": [{"id": uid(), "text": "School"}],
            },
        )
        world.records[f"agenda_{visibility}"] = agenda.body["id"]
        plan = api.post(
            f"{base}/plans",
            sw,
            {
                "title": "Plan",
                "visibility": visibility,
                "actions": [{"id": uid(), "text": "Call school", "owner": "Sam"}],
            },
        )
        world.records[f"plan_{visibility}"] = plan.body["id"]
        comment = api.post(f"{base}/notes/{note.body['id']}/comments", sw, {"body": "Seen"})
        world.records[f"comment_{visibility}"] = comment.body["id"]
    add_partners(world)
    return world
