"""Every endpoint, every role, every visibility: the status the contract demands.

The matrix is generated from the table below; each row names a request (built against a fresh
or shared record) and the expected status per role. A record a caller may not see is a 404,
never a 403; a 403 means the caller can see it but their role may not do this. Rows outside any
family (the staff directory) and rows that depend on the role, not on access, name their roles.

Partner agencies: ``partner`` holds a grant of family A covering every kind of record, and
``partner_agendas_only`` one covering agendas alone (a row names the kind it touches, its
``scope``; what a grant does not cover is a 404). Partners whose grant expired, was revoked or
is of another family, and a workforce token with a grant but without the ``Partner`` role, are
outsiders: 404 everywhere.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from local.emulators import Emulators
from tests.functional.world import World

ROLES = (
    "social_worker",
    "other_social_worker",
    "team_manager",
    "other_team_manager",
    "head_of_service",
    "admin",
    "family_member",
    "other_family_member",
    "partner",
    "partner_agendas_only",
    "anonymous",
)
# Grants that give nothing: each row is sent as all four at once (the record it names is made
# once), and each must be the 404 an outsider gets.
ENDED_OR_FOREIGN_GRANTS = (
    "partner_expired",
    "partner_revoked",
    "partner_other_family",
    "partner_without_role",
)
STAFF_WITH_ACCESS = {"social_worker": 0, "team_manager": 0, "head_of_service": 0}
PARTNERS_IN_REACH = {"partner": None, "partner_agendas_only": "agendas"}
NO_ACCESS = {
    "other_social_worker": 404,
    "other_team_manager": 404,
    "admin": 404,
    "other_family_member": 404,
    "anonymous": 401,
}


@pytest.fixture(autouse=True)
def clean_environment(one_instance: None) -> None:
    """The module's requests share one runtime (``one_instance``): no row changes a setting."""


@pytest.fixture
def stack(emulators: Emulators, one_instance: None) -> Emulators:
    return emulators


def uid() -> str:
    return str(uuid.uuid4())


Request = tuple[str, str, Any]
Builder = Callable[[World], Request]


@dataclasses.dataclass(frozen=True)
class Row:
    """``partner``: what a partner whose grant covers the row's ``scope`` gets (None: the family
    itself, which every grant covers)."""

    name: str
    build: Builder
    staff: int
    family: int
    by_role: Mapping[str, int] = dataclasses.field(default_factory=dict)
    partner: int = 404
    scope: str | None = None

    def expected(self, role: str) -> int:
        if role in self.by_role:
            return self.by_role[role]
        if role in STAFF_WITH_ACCESS:
            return self.staff
        if role == "family_member":
            return self.family
        if role in PARTNERS_IN_REACH:
            only = PARTNERS_IN_REACH[role]
            covered = only is None or self.scope in (None, only)
            return self.partner if covered else 404
        return NO_ACCESS[role]


def fresh(world: World, collection: str, body: dict[str, Any]) -> str:
    """A new record made by the allocated social worker, for rows that change or delete."""
    made = world.api.post(
        f"/families/{world.family}/{collection}", world.token("social_worker"), body
    )
    assert made.status == 201, made.body
    return str(made.body["id"])


def fresh_visit(world: World) -> str:
    return fresh(
        world, "visits", {"startsAt": "2026-12-03T10:00:00Z", "endsAt": "2026-12-03T11:00:00Z"}
    )


def note_body(visibility: str) -> dict[str, Any]:
    return {"body": "Written for the matrix", "visibility": visibility}


def base(world: World) -> str:
    return f"/families/{world.family}"


def media_body(visibility: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "photo", "contentType": "image/jpeg", "sizeBytes": 1000}
    return body if visibility is None else {**body, "visibility": visibility}


def staff_directory_row(name: str, build: Builder, admin: int) -> Row:
    """Only an Admin manages the staff directory; every other signed-in caller is refused."""
    signed_in = (*ROLES, *ENDED_OR_FOREIGN_GRANTS)
    refused = {role: 403 for role in signed_in if role != "anonymous"}
    return Row(name, build, 403, 403, {**refused, "admin": admin, "anonymous": 401})


STAFF_ENTRY = {"displayName": "New Worker", "teamIds": ["north"], "phone": "07700 900321"}


def fresh_link(world: World) -> str:
    """The path of a new member's one linked sign-in, for rows that revoke it."""
    from tests.tokens import family_token

    sw = world.token("social_worker")
    phone = "+447700900888"
    member = fresh(world, "members", {"displayName": "Sky", "relationship": "aunt", "phone": phone})
    invited = world.api.post(f"{base(world)}/invitations", sw, {"memberId": member})
    token = family_token(oid=uid(), phone_number=phone, phone_number_verified=True)
    redeemed = world.api.post("/invitations/redeem", token, {"code": invited.body["code"]})
    assert redeemed.status == 200, redeemed.body
    links = f"{base(world)}/members/{member}/links"
    [link] = world.api.get(links, sw).body["items"]
    return f"{links}/{link['id']}"


def fresh_grant(world: World) -> str:
    """A new grant of family A (to a partner of no other row), for rows that change or end it."""
    from tests.functional.world import grant, partner

    return grant(world, world.family, partner("Pat Lane"), ["notes"])


GRANT_BODY = {
    "partnerOid": "5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f",
    "displayName": "Dana Head",
    "organisation": "Hillside Primary School",
    "agency": "education",
    "scopes": ["plans"],
    "lawfulBasis": "children-act-2004-s11",
    "reason": "Owns the attendance action of the plan.",
}


def grant_body() -> dict[str, Any]:
    from datetime import UTC, datetime, timedelta

    end = datetime.now(UTC) + timedelta(days=30)
    return {**GRANT_BODY, "expiresAt": end.isoformat(timespec="seconds")}


def partner_plan(world: World, owner: str | None = None) -> tuple[str, dict[str, Any]]:
    """A new shared plan with one action owned by the partner's grant (or by ``owner``), and the
    patch that marks that action done."""
    action = {
        "id": uid(),
        "text": "Breakfast club place",
        "owner": owner or world.grants["partner"],
    }
    plan = fresh(world, "plans", {"title": "Attendance", "actions": [action]})
    return plan, {"actions": [{**action, "status": "done"}]}


def patch_plan(world: World, owner: str | None = None) -> Request:
    plan, body = partner_plan(world, owner)
    return "PATCH", f"{base(world)}/plans/{plan}", body


ROWS: list[Row] = [
    Row("get family", lambda w: ("GET", base(w), None), 200, 200, partner=200),
    Row(
        "patch family name",
        lambda w: ("PATCH", base(w), {"displayName": "Jones"}),
        200,
        403,
        partner=403,
    ),
    Row("list members", lambda w: ("GET", f"{base(w)}/members", None), 200, 200),
    Row(
        "add member",
        lambda w: ("POST", f"{base(w)}/members", {"displayName": "New", "relationship": "aunt"}),
        201,
        403,
    ),
    Row(
        "patch own member reminders",
        lambda w: ("PATCH", f"{base(w)}/members/{w.member_self}", {"smsReminders": False}),
        200,
        200,
    ),
    Row(
        "patch another member",
        lambda w: (
            "PATCH",
            f"{base(w)}/members/{w.records['member_other']}",
            {"smsReminders": True},
        ),
        200,
        403,
    ),
    Row(
        "invite member",
        lambda w: ("POST", f"{base(w)}/invitations", {"memberId": w.records["member_other"]}),
        201,
        403,
    ),
    Row(
        "list member sign-ins",
        lambda w: ("GET", f"{base(w)}/members/{w.member_self}/links", None),
        200,
        403,
    ),
    Row("revoke member sign-in", lambda w: ("DELETE", fresh_link(w), None), 204, 403),
    Row(
        "list visits",
        lambda w: ("GET", f"{base(w)}/visits", None),
        200,
        200,
        partner=200,
        scope="visits",
    ),
    Row(
        "get visit",
        lambda w: ("GET", f"{base(w)}/visits/{w.records['visit']}", None),
        200,
        200,
        partner=200,
        scope="visits",
    ),
    Row(
        "create visit",
        lambda w: (
            "POST",
            f"{base(w)}/visits",
            {"startsAt": "2026-12-02T10:00:00Z", "endsAt": "2026-12-02T11:00:00Z"},
        ),
        201,
        403,
        partner=403,
        scope="visits",
    ),
    Row(
        "patch visit",
        lambda w: ("PATCH", f"{base(w)}/visits/{fresh_visit(w)}", {"location": "Office"}),
        200,
        403,
        partner=403,
        scope="visits",
    ),
    Row(
        "delete visit",
        lambda w: ("DELETE", f"{base(w)}/visits/{fresh_visit(w)}", None),
        204,
        403,
        partner=403,
        scope="visits",
    ),
    Row(
        "list audit",
        lambda w: ("GET", f"{base(w)}/audit", None),
        200,
        403,
        {"social_worker": 403},
    ),
    Row(
        "verify audit",
        lambda w: ("GET", f"{base(w)}/audit/verify", None),
        200,
        403,
        {"social_worker": 403},
    ),
    Row(
        "export",
        lambda w: ("GET", f"{base(w)}/export", None),
        200,
        200,
        {"social_worker": 403},
    ),
    Row("list notifications", lambda w: ("GET", f"{base(w)}/notifications", None), 200, 403),
    Row(
        "create note",
        lambda w: ("POST", f"{base(w)}/notes", {"body": "Hello"}),
        201,
        201,
        partner=403,
        scope="notes",
    ),
    Row(
        "list notes",
        lambda w: ("GET", f"{base(w)}/notes", None),
        200,
        200,
        partner=200,
        scope="notes",
    ),
    Row(
        "list plans",
        lambda w: ("GET", f"{base(w)}/plans", None),
        200,
        200,
        partner=200,
        scope="plans",
    ),
    Row(
        "list agendas",
        lambda w: ("GET", f"{base(w)}/agendas", None),
        200,
        200,
        partner=200,
        scope="agendas",
    ),
    Row(
        "create agenda",
        lambda w: ("POST", f"{base(w)}/agendas", {"title": "Next visit"}),
        201,
        403,
        partner=403,
        scope="agendas",
    ),
    Row(
        "create plan",
        lambda w: ("POST", f"{base(w)}/plans", {"title": "Plan"}),
        201,
        403,
        partner=403,
        scope="plans",
    ),
    Row(
        "mark the partner's own plan action done",
        patch_plan,
        200,
        403,
        partner=200,
        scope="plans",
    ),
    Row(
        "mark someone else's plan action done",
        lambda w: patch_plan(w, owner="Sam Patel"),
        200,
        403,
        partner=403,
        scope="plans",
    ),
    Row(
        "create media slot",
        lambda w: ("POST", f"{base(w)}/media", media_body()),
        201,
        201,
        partner=403,
        scope="media",
    ),
    Row(
        "list media",
        lambda w: ("GET", f"{base(w)}/media", None),
        200,
        200,
        partner=200,
        scope="media",
    ),
    Row("list grants", lambda w: ("GET", f"{base(w)}/partners", None), 200, 403),
    Row("grant a partner", lambda w: ("POST", f"{base(w)}/partners", grant_body()), 201, 403),
    Row(
        "read a grant",
        lambda w: ("GET", f"{base(w)}/partners/{w.grants['partner']}", None),
        200,
        403,
    ),
    Row(
        "change a grant",
        lambda w: ("PATCH", f"{base(w)}/partners/{fresh_grant(w)}", {"scopes": ["plans"]}),
        200,
        403,
    ),
    Row(
        "revoke a grant",
        lambda w: ("DELETE", f"{base(w)}/partners/{fresh_grant(w)}", None),
        204,
        403,
    ),
    Row("who can see the story", lambda w: ("GET", f"{base(w)}/access", None), 200, 200),
    staff_directory_row("put staff", lambda w: ("PUT", f"/staff/{uid()}", STAFF_ENTRY), 201),
    staff_directory_row("list staff", lambda w: ("GET", "/staff", None), 200),
]


def visibility_rows(v: str) -> list[Row]:
    """Rows for records of one visibility: a family member sees only ``family`` ones, a partner
    ``family`` and ``partners`` ones of the kinds their grant covers."""
    hidden = 404 if v != "family" else None
    hidden_from_partners = 404 if v == "professionals" else None

    def seen(status: int) -> int:
        return hidden or status

    def partner(status: int) -> int:
        return hidden_from_partners or status

    return [
        Row(
            f"get {v} note",
            lambda w: ("GET", f"{base(w)}/notes/{w.records[f'note_{v}']}", None),
            200,
            seen(200),
            partner=partner(200),
            scope="notes",
        ),
        Row(
            f"patch staff {v} note",
            lambda w: (
                "PATCH",
                f"{base(w)}/notes/{fresh(w, 'notes', note_body(v))}",
                {"body": "Edited"},
            ),
            200,
            seen(403),
            partner=partner(403),
            scope="notes",
        ),
        Row(
            f"delete staff {v} note",
            lambda w: ("DELETE", f"{base(w)}/notes/{fresh(w, 'notes', note_body(v))}", None),
            204,
            seen(403),
            partner=partner(403),
            scope="notes",
        ),
        Row(
            f"list versions of a {v} note",
            lambda w: ("GET", f"{base(w)}/notes/{w.records[f'note_{v}']}/versions", None),
            200,
            seen(403),
            partner=partner(403),
            scope="notes",
        ),
        Row(
            f"get {v} agenda",
            lambda w: ("GET", f"{base(w)}/agendas/{w.records[f'agenda_{v}']}", None),
            200,
            seen(200),
            partner=partner(200),
            scope="agendas",
        ),
        Row(
            f"add item to {v} agenda",
            lambda w: (
                "POST",
                f"{base(w)}/agendas/{w.records[f'agenda_{v}']}/items",
                {"text": "Holidays"},
            ),
            201,
            seen(201),
            partner=partner(201),
            scope="agendas",
        ),
        Row(
            f"patch {v} agenda",
            lambda w: (
                "PATCH",
                f"{base(w)}/agendas/{fresh(w, 'agendas', {'title': 'A', 'visibility': v})}",
                {"title": "B"},
            ),
            200,
            seen(403),
            partner=partner(403),
            scope="agendas",
        ),
        Row(
            f"comment on {v} agenda",
            lambda w: (
                "POST",
                f"{base(w)}/agendas/{w.records[f'agenda_{v}']}/comments",
                {"body": "Thanks"},
            ),
            201,
            seen(201),
            partner=partner(201),
            scope="agendas",
        ),
        Row(
            f"get {v} plan",
            lambda w: ("GET", f"{base(w)}/plans/{w.records[f'plan_{v}']}", None),
            200,
            seen(200),
            partner=partner(200),
            scope="plans",
        ),
        Row(
            f"delete {v} plan",
            lambda w: (
                "DELETE",
                f"{base(w)}/plans/{fresh(w, 'plans', {'title': 'P', 'visibility': v})}",
                None,
            ),
            204,
            seen(403),
            partner=partner(403),
            scope="plans",
        ),
        Row(
            f"comment on {v} note",
            lambda w: (
                "POST",
                f"{base(w)}/notes/{w.records[f'note_{v}']}/comments",
                {"body": "Thanks"},
            ),
            201,
            seen(201),
            partner=partner(201),
            scope="notes",
        ),
        Row(
            f"list comments on {v} note",
            lambda w: ("GET", f"{base(w)}/notes/{w.records[f'note_{v}']}/comments", None),
            200,
            seen(200),
            partner=partner(200),
            scope="notes",
        ),
        Row(
            f"get {v} media",
            lambda w: ("GET", f"{base(w)}/media/{fresh(w, 'media', media_body(v))}", None),
            200,
            seen(200),
            partner=partner(200),
            scope="media",
        ),
        Row(
            f"patch staff {v} media caption",
            lambda w: (
                "PATCH",
                f"{base(w)}/media/{fresh(w, 'media', media_body(v))}",
                {"caption": "At the park"},
            ),
            200,
            seen(403),
            partner=partner(403),
            scope="media",
        ),
        Row(
            f"delete staff {v} media",
            lambda w: ("DELETE", f"{base(w)}/media/{fresh(w, 'media', media_body(v))}", None),
            204,
            seen(403),
            partner=partner(403),
            scope="media",
        ),
        Row(
            f"comment on {v} media",
            lambda w: (
                "POST",
                f"{base(w)}/media/{fresh(w, 'media', media_body(v))}/comments",
                {"body": "Lovely"},
            ),
            201,
            seen(201),
            partner=partner(201),
            scope="media",
        ),
    ]


for visibility in ("family", "partners", "professionals"):
    ROWS += visibility_rows(visibility)

CASES = [(row, role) for row in ROWS for role in ROLES]


@pytest.mark.parametrize(("row", "role"), CASES, ids=[f"{row.name}-{role}" for row, role in CASES])
def test_access_matrix(world: World, stack: Emulators, row: Row, role: str) -> None:
    method, path, body = row.build(world)
    expected = row.expected(role)
    response = world.api.request(method, path, world.token(role), body)
    assert response.status == expected, response.body
    if expected >= 400:
        assert response.header("content-type") is None or response.body["status"] == expected
        assert str(world.family) not in str(response.body.get("detail", ""))
    if expected == 401:
        assert response.header("WWW-Authenticate") == "Bearer"


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_an_ended_or_foreign_grant_reaches_nothing(
    world: World, stack: Emulators, row: Row
) -> None:
    """Partners whose grant of family A expired or was revoked, who hold a grant of another
    family, or whose token lacks the ``Partner`` role: what an outsider gets, on every row."""
    method, path, body = row.build(world)
    for role in ENDED_OR_FOREIGN_GRANTS:
        expected = row.by_role.get(role, 404)
        response = world.api.request(method, path, world.token(role), body)
        assert response.status == expected, (role, response.body)
        assert str(world.family) not in str(response.body.get("detail", ""))


def test_family_member_sees_no_professionals_records_in_lists(
    world: World, stack: Emulators
) -> None:
    token = world.token("family_member")
    for collection in ("notes", "agendas", "plans"):
        listed = world.api.get(f"/families/{world.family}/{collection}", token)
        assert listed.status == 200
        assert listed.body["items"], collection
        assert {item["visibility"] for item in listed.body["items"]} == {"family"}


def test_family_member_sees_other_members_names_but_not_their_phones(
    world: World, stack: Emulators
) -> None:
    listed = world.api.get(f"/families/{world.family}/members", world.token("family_member"))
    by_id = {item["id"]: item for item in listed.body["items"]}
    assert by_id[world.member_self]["phone"] == "+447700900123"
    other = by_id[world.records["member_other"]]
    assert other["displayName"] == "Lee Jones"
    assert "phone" not in other


def test_family_member_may_not_set_visibility_or_system_fields(
    world: World, stack: Emulators
) -> None:
    token = world.token("family_member")
    for field, value, status in (
        ("visibility", "family", 403),
        ("createdBy", {"id": "x"}, 422),
        ("version", "1", 422),
    ):
        response = world.api.post(
            f"/families/{world.family}/notes", token, {"body": "Mine", field: value}
        )
        assert response.status == status, field
        assert response.body["errors"][0]["loc"] == ["body", field]


def test_social_worker_may_not_change_allocation(world: World, stack: Emulators) -> None:
    response = world.api.patch(
        f"/families/{world.family}",
        world.token("social_worker"),
        {"workerIds": [str(uuid.uuid4())]},
    )
    assert response.status == 403
    assert response.body["errors"] == [{"loc": ["body", "workerIds"], "type": "forbidden_field"}]


def test_family_member_edits_and_deletes_only_their_own_notes(
    world: World, stack: Emulators
) -> None:
    token = world.token("family_member")
    own = world.api.post(f"/families/{world.family}/notes", token, {"body": "From us"})
    assert own.status == 201
    assert own.body["visibility"] == "family"
    edited = world.api.patch(
        f"/families/{world.family}/notes/{own.body['id']}", token, {"body": "From us, edited"}
    )
    assert edited.status == 200
    assert world.api.delete(f"/families/{world.family}/notes/{own.body['id']}", token).status == 204


def test_only_the_author_changes_a_comment(world: World, stack: Emulators) -> None:
    note = world.records["note_family"]
    mine = world.api.post(
        f"/families/{world.family}/notes/{note}/comments",
        world.token("family_member"),
        {"body": "Ours"},
    )
    path = f"/families/{world.family}/comments/{mine.body['id']}"
    assert world.api.patch(path, world.token("social_worker"), {"body": "No"}).status == 403
    assert world.api.patch(path, world.token("family_member"), {"body": "Better"}).status == 200
    assert world.api.delete(path, world.token("team_manager")).status == 403


def test_admin_sees_no_families(world: World, stack: Emulators) -> None:
    listed = world.api.get("/families", world.token("admin"))
    assert listed.status == 200
    assert listed.body["items"] == []


def test_family_lists_follow_allocation_and_teams(world: World, stack: Emulators) -> None:
    def family_ids(role: str) -> set[str]:
        listed = world.api.get("/families", world.token(role), params={"limit": "100"})
        assert listed.status == 200
        return {item["id"] for item in listed.body["items"]}

    assert {world.family, world.other_family} <= family_ids("social_worker")
    assert world.family not in family_ids("other_social_worker")
    assert world.family in family_ids("team_manager")
    assert world.family not in family_ids("other_team_manager")
    assert world.family in family_ids("head_of_service")
    assert family_ids("family_member") == {world.family}
