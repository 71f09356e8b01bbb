"""A borough with two teams, families in each, a caller of every role, and family A's story.

- Team A: family A (allocated to one social worker) and family C (allocated to another).
  Team B: family B. Family A's member and family B's member signed in by redeeming the
  invitations their social workers sent, as family members do; where the app serves revoking
  a sign-in, a former carer of family A signed in too and was revoked.
- Family A holds one record of every kind the catalogue names, in every variant it names (a
  note of each visibility, a comment on each kind of target of each visibility, ...), made
  through the API, plus a visit reminder (made by the reminder store, as the timer makes it),
  a dispute, an invitation nobody has redeemed, and its visit's recorded outcome (so its
  sign-off, case record and "recorded in the CMS" mark reach it).
- Partner agencies: one granted family A's agendas and notes (an insider for those, and for
  nothing else), one granted family B, and three whose grant of every copy of family A gives
  nothing: expired, revoked, or held by a workforce token without the ``Partner`` role.
- Every text written into family A carries a marker, and everything family A holds is listed
  (from its export) as ``secrets``: an answer to an outsider that contains one has leaked.
- Family A has ``TWINS``: families with the same story, allocated alike. Every refusal of an
  existing family is audited; spreading the outsiders over three copies of the story spreads
  their requests, and the checks of each copy's audit trail, over three families.
"""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from shared.adapters.cosmos_claims import CosmosClaimStore
from shared.bootstrap import get_runtime
from shared.storage_layout import AUDIT, DIRECTORY
from tests.claims import reminder_claim
from tests.security.catalogue import (
    ANY,
    FAMILIES,
    PARAMETER,
    Catalogue,
    Operation,
    Slot,
    Target,
    minimal_body,
    served_document,
)
from tests.security.client import Answer, Client
from tests.tokens import family_token, staff_token

CallerKind = Literal["staff", "family", "partner", "anonymous"]

ALLOCATED = "allocated_worker"
UNALLOCATED = "unallocated_worker"
TEAM_B_WORKER = "team_b_worker"
TEAM_A_MANAGER = "team_a_manager"
TEAM_B_MANAGER = "team_b_manager"
HEAD_OF_SERVICE = "head_of_service"
ADMIN = "admin"
FAMILY_A_MEMBER = "family_a_member"
FAMILY_B_MEMBER = "family_b_member"
UNLINKED = "unlinked_family_user"
PARTNER = "partner_without_grant"
PARTNER_EXPIRED = "partner_whose_grant_expired"
PARTNER_REVOKED = "partner_whose_grant_was_revoked"
PARTNER_NO_ROLE = "granted_token_without_partner_role"
PARTNER_ELSEWHERE = "partner_granted_family_b"
PARTNER_GRANTED = "partner_granted_agendas_and_notes"
PARTNER_SCOPES = ("agendas", "notes")
REVOKED = "revoked_family_sign_in"
IMPOSTOR = "family_sign_in_posing_as_staff"
ANONYMOUS = "anonymous"
TWINS = 2

# Staff revoke a family sign-in here (API.md v1.1); where the app serves it, the borough has a
# sign-in of family A that was linked and then revoked, an outsider from then on.
LINK_REVOCATION = ("DELETE", "/families/{familyId}/members/{memberId}/links/{linkId}")


# Staff grant partner agencies a family here (API.md v1.1); where the app serves it, partners
# with grants that give nothing are outsiders, and one with a live grant is checked for what the
# grant does not cover.
GRANTING = ("POST", "/families/{familyId}/partners")


def served(operation: tuple[str, str]) -> bool:
    method, path = operation
    return method.lower() in served_document()["paths"].get(path, {})


def revocation_served() -> bool:
    return served(LINK_REVOCATION)


def grants_served() -> bool:
    return served(GRANTING)


ENDED_GRANTS = (PARTNER_EXPIRED, PARTNER_REVOKED, PARTNER_NO_ROLE)


# Callers who may not see family A at all: for them every id in it names nothing.
OUTSIDERS = (
    UNALLOCATED,
    TEAM_B_WORKER,
    TEAM_B_MANAGER,
    ADMIN,
    FAMILY_B_MEMBER,
    UNLINKED,
    PARTNER,
    IMPOSTOR,
    *((REVOKED,) if revocation_served() else ()),
    *((*ENDED_GRANTS, PARTNER_ELSEWHERE) if grants_served() else ()),
)
# Callers who see family A, in order of preference for showing that a request reaches a record.
INSIDERS = (ALLOCATED, TEAM_A_MANAGER, HEAD_OF_SERVICE, FAMILY_A_MEMBER)
# Callers with a family of their own, who may name family A's records inside it.
WITH_OWN_FAMILY = (
    UNALLOCATED,
    TEAM_B_WORKER,
    TEAM_B_MANAGER,
    FAMILY_B_MEMBER,
    *((PARTNER_ELSEWHERE,) if grants_served() else ()),
)


def uid() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Caller:
    name: str
    kind: CallerKind
    token: str | None
    oid: str
    home: str | None = None


@dataclass(frozen=True)
class Record:
    collection: str
    variant: str
    id: str
    visibility: str | None
    listed_at: str | None = None  # where it was found, for a record the API does not create


@dataclass
class Story:
    """Family A (or a twin of it): its records by (collection, variant), and its secrets."""

    client: Client
    catalogue: Catalogue
    callers: dict[str, Caller] = field(default_factory=dict)
    team_a: str = field(default_factory=lambda: f"team-a-{uid()[:8]}")
    marker: str = field(default_factory=lambda: f"QX{uuid.uuid4().hex[:12]}")
    family_a: str = ""
    records: dict[tuple[str, str], Record] = field(default_factory=dict)
    pending_code: str = ""
    phones: list[str] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)
    audit_mark: frozenset[str] = frozenset()  # the family's audit events written while building it
    revoked_since: str = ""  # the revoked sign-in's sync token from before it was revoked

    def caller(self, name: str) -> Caller:
        return self.callers[name]

    def token(self, name: str) -> str | None:
        return self.callers[name].token

    def call(
        self, method: str, path: str, caller: str, body: Any = None, expect: int | None = None
    ) -> Answer:
        answer = self.client.call(method, path, self.token(caller), body)
        if expect is not None:
            assert answer.status == expect, f"{method} {path} as {caller}: {answer.describe()}"
        return answer

    def exported(self) -> list[dict[str, Any]]:
        """Every document of the family, as its team manager's subject access export has it."""
        found: list[dict[str, Any]] = []
        following: str | None = None
        while True:
            answer = self.client.call(
                "GET",
                f"/families/{self.family_a}/export",
                self.token(TEAM_A_MANAGER),
                query={"next": following} if following else None,
            )
            assert answer.status == 200, answer.describe()
            document = answer.json()
            found += document["records"]
            following = document.get("next")
            if not following:
                return found

    # --- aiming a target at the family ---------------------------------------------------------

    def values(self, target: Target, family: str | None = None) -> dict[str, str]:
        """The target's path parameters and id members filled with the family's records (the
        family itself replaced by ``family`` when given)."""
        values = dict(target.literals)
        for slot in target.slots:
            if slot.collection == FAMILIES:
                values[slot.name] = family or self.family_a
            else:
                values[slot.name] = self.record_for(slot, target).id
        return values

    def record_for(self, slot: Slot, target: Target) -> Record:
        return self.records.get(slot.key) or self.make(slot.collection, slot.variant, target)

    # --- making records --------------------------------------------------------------------------

    def make(self, collection: str, variant: str, target: Target | None = None) -> Record:
        """A record of ``collection``: created where the document creates one, or else the
        first one listed where ``target``'s path lists them."""
        create = self.catalogue.create_operation(collection)
        if create is not None:
            record = self.create(create, collection, variant)
        else:
            record = self.first_listed(collection, variant, target)
        self.records[(collection, variant)] = record
        return record

    def create(self, create: Operation, collection: str, variant: str) -> Record:
        """Made by the allocated social worker (or, where staff may not, the family's member)
        with the operation's own example body, its free text carrying the marker."""
        schemas = self.catalogue.schemas
        body = minimal_body(schemas, create)
        assert isinstance(body, dict), f"cannot create {collection}: body {body!r}"
        schema = (create.body_media() or {}).get("schema", {})
        properties = schemas.concrete(schema).get("properties", {})
        for name, value in list(body.items()):
            if isinstance(value, str) and schemas.is_free_text(properties.get(name, {})):
                body[name] = f"{self.marker} {collection} {variant} {name}"
        visibility = self.catalogue.visibility(collection, variant)
        if visibility is not None and "visibility" in properties:
            body["visibility"] = visibility
        if "id" in properties:  # the client's id: the answer may be the record it was added to
            body["id"] = uid()
        path = self.creation_path(create, variant)
        answer = self.call("POST", path, ALLOCATED, body)
        if answer.status == 403:
            answer = self.call("POST", path, FAMILY_A_MEMBER, body)
        assert answer.status == 201, f"cannot create {collection} {variant}: {answer.describe()}"
        made = str(body.get("id") or answer.json()["id"])
        return Record(collection, variant, made, visibility)

    def creation_path(self, create: Operation, variant: str) -> str:
        """The creating operation's path, filled: the family, the enum parameter's value (the
        first part of a variant such as ``notes.family``), and a record of the collection
        written before each other parameter."""
        target_kind, _, inner = variant.rpartition(".")
        segments = create.segments
        filled: list[str] = []
        for index, segment in enumerate(segments):
            matched = PARAMETER.match(segment)
            if matched is None:
                filled.append(segment)
                continue
            before = segments[index - 1]
            schema = create.parameters.get(matched.group(1), {}).get("schema", {})
            if before == FAMILIES:
                filled.append(self.family_a)
            elif self.catalogue.schemas.enum(schema):
                filled.append(target_kind)
            else:
                collection = target_kind if PARAMETER.match(before) else before
                wanted = inner if collection == target_kind else self.default_variant(collection)
                record = self.records.get((collection, wanted)) or self.make(collection, wanted)
                filled.append(record.id)
        return "/" + "/".join(filled)

    def default_variant(self, collection: str) -> str:
        return self.catalogue.variants(collection)[0]

    def first_listed(self, collection: str, variant: str, target: Target | None) -> Record:
        """For a record the API does not create (a sign-in's link), the first one listed."""
        assert target is not None, f"no way to make a record of {collection}"
        segments = target.operation.segments
        index = next(
            i
            for i, s in enumerate(segments)
            if i and PARAMETER.match(s) and segments[i - 1] == collection
        )
        names = {m.group(1) for m in map(PARAMETER.match, segments[:index]) if m}
        prefix = "/" + "/".join(segments[:index])
        for slot in target.slots:
            if slot.name in names and not slot.in_body:
                value = (
                    self.family_a
                    if slot.collection == FAMILIES
                    else self.record_for(slot, target).id
                )
                prefix = prefix.replace("{" + slot.name + "}", value)
        for name, value in target.literals:
            prefix = prefix.replace("{" + name + "}", value)
        for caller in (HEAD_OF_SERVICE, FAMILY_A_MEMBER):
            listed = self.client.call("GET", prefix, self.token(caller))
            items = (listed.json() or {}).get("items") if listed.status == 200 else None
            if items:
                return Record(collection, variant, str(items[0]["id"]), None, prefix)
        raise AssertionError(
            f"family A has no {collection} to aim {target.id} at, and the document has no way "
            "to create one: teach tests/security/borough.py to make one"
        )


@dataclass
class Borough(Story):
    """The borough: family A's story (this), its twins, and the other families."""

    team_b: str = field(default_factory=lambda: f"team-b-{uid()[:8]}")
    family_b: str = ""
    family_c: str = ""
    twins: list[Story] = field(default_factory=list)

    @property
    def stories(self) -> list[Story]:
        return [self, *self.twins]

    def story_for(self, outsider: str) -> Story:
        """The copy of family A an outsider's cases are aimed at. The revoked sign-in's is
        family A itself, the family it was revoked from."""
        if outsider == REVOKED:
            return self
        return self.stories[OUTSIDERS.index(outsider) % len(self.stories)]


def drama_phones(count: int) -> list[str]:
    """UK mobile numbers from the range Ofcom keeps for drama (never a real phone)."""
    return [f"+447700900{n:03d}" for n in random.sample(range(1000), count)]


def staff(borough: Borough, name: str, role: str, teams: Iterable[str], display: str) -> None:
    oid = uid()
    runtime = get_runtime()
    runtime.database.get_container_client(DIRECTORY.name).upsert_item(
        {
            "id": f"staff:{runtime.settings.staff_tenant_id}:{oid}",
            "type": "staff",
            "oid": oid,
            "displayName": display,
            "teamIds": list(teams),
        }
    )
    borough.callers[name] = Caller(name, "staff", staff_token(role, oid=oid, name=display), oid)


def family_user(story: Story, name: str, phone: str) -> None:
    oid = uid()
    token = family_token(oid=oid, name="Pat", phone_number=phone, phone_number_verified=True)
    story.callers[name] = Caller(name, "family", token, oid)


def new_family(story: Story, creator: str, team: str, label: str) -> str:
    body = {"displayName": f"{label} family", "teamId": team}
    return str(story.call("POST", "/families", creator, body, 201).json()["id"])


def add_member(story: Story, family: str, creator: str, body: dict[str, Any]) -> str:
    made = story.call("POST", f"/families/{family}/members", creator, body, 201)
    return str(made.json()["id"])


def invite(story: Story, family: str, creator: str, member: str) -> str:
    sent = story.call("POST", f"/families/{family}/invitations", creator, {"memberId": member}, 201)
    return str(sent.json()["code"])


def redeem(story: Story, caller: str, code: str) -> None:
    story.call("POST", "/invitations/redeem", caller, {"code": code}, 200)


def build_borough(client: Client, catalogue: Catalogue) -> Borough:
    borough = Borough(client, catalogue)
    a, b = borough.team_a, borough.team_b
    staff(borough, ALLOCATED, "SocialWorker", [a], "Sam Patel")
    staff(borough, UNALLOCATED, "SocialWorker", [a], "Kim Lee")
    staff(borough, TEAM_B_WORKER, "SocialWorker", [b], "Jo Smith")
    staff(borough, TEAM_A_MANAGER, "TeamManager", [a], "Ali Khan")
    staff(borough, TEAM_B_MANAGER, "TeamManager", [b], "Chris Ward")
    staff(borough, HEAD_OF_SERVICE, "HeadOfService", [], "Alex Reid")
    staff(borough, ADMIN, "Admin", [], "Ash Admin")
    for name, roles in (
        (PARTNER, ("Partner",)),
        (PARTNER_EXPIRED, ("Partner",)),
        (PARTNER_REVOKED, ("Partner",)),
        (PARTNER_NO_ROLE, ()),
        (PARTNER_ELSEWHERE, ("Partner",)),
        (PARTNER_GRANTED, ("Partner",)),
    ):
        partner = uid()
        token = staff_token(*roles, oid=partner, name="Dana Head")
        borough.callers[name] = Caller(name, "partner" if roles else "staff", token, partner)
    borough.callers[ANONYMOUS] = Caller(ANONYMOUS, "anonymous", None, "")
    # A family sign-in whose oid is family A's allocated worker's, claiming staff roles: users
    # are keyed by tenant and oid, and only the workforce tenant's tokens carry roles.
    worker = borough.caller(ALLOCATED).oid
    posing = family_token(oid=worker, name="Sam Patel", roles=["SocialWorker", "HeadOfService"])
    borough.callers[IMPOSTOR] = Caller(IMPOSTOR, "family", posing, worker)
    phones = iter(drama_phones(3 + 2 * (1 + TWINS)))
    family_user(borough, UNLINKED, next(phones))

    borough.family_b = new_family(borough, TEAM_B_WORKER, b, "Brown")
    borough.family_c = new_family(borough, UNALLOCATED, a, "Green")
    b_phone = next(phones)
    b_member = add_member(
        borough,
        borough.family_b,
        TEAM_B_WORKER,
        {"displayName": "Max Brown", "relationship": "father", "phone": b_phone},
    )
    family_user(borough, FAMILY_B_MEMBER, b_phone)
    redeem(borough, FAMILY_B_MEMBER, invite(borough, borough.family_b, TEAM_B_WORKER, b_member))
    for family, writer in ((borough.family_b, TEAM_B_WORKER), (borough.family_c, UNALLOCATED)):
        borough.call("POST", f"/families/{family}/notes", writer, {"body": "Their own note"}, 201)
    for name, family in (
        (UNALLOCATED, borough.family_c),
        (TEAM_B_WORKER, borough.family_b),
        (TEAM_B_MANAGER, borough.family_b),
        (FAMILY_B_MEMBER, borough.family_b),
        (PARTNER_ELSEWHERE, borough.family_b),
    ):
        borough.callers[name] = dataclasses.replace(borough.callers[name], home=family)

    borough.twins = [
        Story(client, catalogue, dict(borough.callers), a, borough.marker) for _ in range(TWINS)
    ]
    stories = borough.stories
    for story in stories:
        story.phones = [next(phones), next(phones)]
        family_user(story, FAMILY_A_MEMBER, story.phones[0])
    with ThreadPoolExecutor(max_workers=len(stories)) as pool:
        list(pool.map(tell_story, stories))
    if REVOKED in OUTSIDERS:
        revoke_a_sign_in(borough, next(phones))
    if grants_served():
        grant_partners(borough)
    for story in stories:
        collect_secrets(story)
        story.audit_mark = audit_event_ids(story.family_a)
    borough.secrets = set().union(*(story.secrets for story in stories))
    return borough


def tell_story(story: Story) -> None:
    """Family A: its members (the parent signed in), a record of every kind and variant the
    catalogue aims at, a reminder, a dispute and an unredeemed invitation."""
    marker = story.marker
    story.family_a = new_family(story, ALLOCATED, story.team_a, marker)
    parent_phone, child_phone = story.phones
    parent = add_member(
        story,
        story.family_a,
        ALLOCATED,
        {
            "displayName": f"{marker} parent",
            "relationship": "mother",
            "phone": parent_phone,
            "smsReminders": True,
        },
    )
    child = add_member(
        story,
        story.family_a,
        ALLOCATED,
        {
            "displayName": f"{marker} child",
            "relationship": "son",
            "phone": child_phone,
            "child": True,
            "cmsId": f"{marker}cms",
        },
    )
    story.records[("members", ANY)] = Record("members", ANY, parent, None)
    redeem(story, FAMILY_A_MEMBER, invite(story, story.family_a, ALLOCATED, parent))
    story.pending_code = invite(story, story.family_a, ALLOCATED, child)
    for target in story.catalogue.targets():
        for slot in target.slots:
            if slot.collection != FAMILIES:
                story.record_for(slot, target)
    visit = story.records.get(("visits", ANY)) or story.make("visits", ANY)
    record_outcome(story, visit.id, child)
    reminder = reminder_claim(
        story.family_a, datetime.now(UTC), member_id=parent, visit_id=visit.id, to=parent_phone
    )
    CosmosClaimStore.from_database(get_runtime().database).create(reminder)
    shared = story.records.get(("notes", "family"))
    if shared is not None:
        story.call(
            "POST",
            f"/families/{story.family_a}/notes/{shared.id}/disputes",
            FAMILY_A_MEMBER,
            {"statement": f"{marker} disputed"},
            201,
        )


def record_outcome(story: Story, visit: str, child: str) -> None:
    """The visit's statutory record (its sign-off, case record and CMS mark need one), with the
    marker in what only staff may read."""
    seen = {
        "memberId": child,
        "seen": True,
        "seenAlone": False,
        "notSeenAloneReason": f"{story.marker} reason",
    }
    outcome = {"happened": True, "childrenSeen": [seen], "childViews": f"{story.marker} views"}
    path = f"/families/{story.family_a}/visits/{visit}"
    story.call("PATCH", path, ALLOCATED, {"outcome": outcome, "status": "completed"}, 200)


def revoke_a_sign_in(borough: Borough, phone: str) -> None:
    """A former carer of family A signs in, and staff then revoke their sign-in."""
    family_a = borough.family_a
    carer = add_member(
        borough,
        family_a,
        ALLOCATED,
        {"displayName": f"{borough.marker} former carer", "relationship": "carer", "phone": phone},
    )
    family_user(borough, REVOKED, phone)
    redeem(borough, REVOKED, invite(borough, family_a, ALLOCATED, carer))
    _, borough.revoked_since = borough.client.pull(borough.token(REVOKED))
    member = f"/families/{family_a}/members/{carer}"
    (link,) = borough.call("GET", f"{member}/links", ALLOCATED, None, 200).json()["items"]
    borough.call("DELETE", f"{member}/links/{link['id']}", ALLOCATED, None, 204)
    borough.phones.append(phone)


def grant(story: Story, family: str, granter: str, partner: str, scopes: list[str]) -> str:
    """A grant of ``family`` to the partner caller, made by ``granter`` through the API."""
    end = (datetime.now(UTC) + timedelta(days=30)).isoformat(timespec="seconds")
    body = {
        "partnerOid": story.caller(partner).oid,
        "displayName": f"{story.marker} partner",
        "organisation": f"{story.marker} organisation",
        "agency": "health",
        "scopes": scopes,
        "lawfulBasis": "children-act-1989-s47",
        "reason": f"{story.marker} reason",
        "expiresAt": end,
    }
    made = story.call("POST", f"/families/{family}/partners", granter, body, 201)
    return str(made.json()["id"])


def grant_partners(borough: Borough) -> None:
    """Every copy of family A granted to the partners whose grant gives nothing (the expired one
    moved into the past, as time would; the revoked one revoked through the API), family B to
    its partner, and family A to the partner granted its agendas and notes."""
    every = ["visits", "agendas", "plans", "notes", "media"]
    records = get_runtime().records
    for story in borough.stories:
        for name in ENDED_GRANTS:
            grant_id = grant(story, story.family_a, ALLOCATED, name, every)
            if name == PARTNER_EXPIRED:
                stored = records.read(story.family_a, grant_id)
                assert stored is not None
                past = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
                records.replace({**stored, "expiresAt": past}, str(stored["_etag"]))
            if name == PARTNER_REVOKED:
                path = f"/families/{story.family_a}/partners/{grant_id}"
                story.call("DELETE", path, ALLOCATED, None, 204)
    grant(borough, borough.family_b, TEAM_B_WORKER, PARTNER_ELSEWHERE, every)
    grant(borough, borough.family_a, ALLOCATED, PARTNER_GRANTED, list(PARTNER_SCOPES))


def collect_secrets(story: Story) -> None:
    """Every id the family holds (from everything its manager can export), the marker, its
    members' phones and its unredeemed invitation code."""
    ids = {story.family_a, *(str(r["id"]) for r in story.exported())}
    ids.update(record.id for record in story.records.values())
    national = [f"0{phone.removeprefix('+44')}" for phone in story.phones]
    story.secrets = {*ids, story.marker, *story.phones, *national, story.pending_code}


def audit_event_ids(family: str) -> frozenset[str]:
    container = get_runtime().database.get_container_client(AUDIT.name)
    ids = container.query_items(
        "SELECT VALUE c.id FROM c WHERE c.familyId = @family AND c.type = 'audit'",
        parameters=[{"name": "@family", "value": family}],
        partition_key=family,
    )
    return frozenset(str(event_id) for event_id in ids)
