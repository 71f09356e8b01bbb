"""Operations outside any one family (``GLOBAL_OPERATIONS``), and what outsiders' lists, pulls and
pushes say of family A: nothing.

Each list or pull has a positive control (family A's allocated worker sees family A in it), so
that "family A is not there" means something.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.security.borough import (
    ADMIN,
    ALLOCATED,
    ANONYMOUS,
    FAMILY_A_MEMBER,
    OUTSIDERS,
    PARTNER_GRANTED,
    REVOKED,
    TEAM_A_MANAGER,
    TEAM_B_MANAGER,
    TEAM_B_WORKER,
    UNALLOCATED,
    Borough,
    Caller,
    grants_served,
    uid,
)
from tests.security.catalogue import (
    ANY,
    GLOBAL_OPERATIONS,
    Catalogue,
    Operation,
    minimal_body,
    served_document,
)
from tests.security.client import Client, Request
from tests.security.oracle import differs, hidden_from_family, hidden_from_partner, leaks
from tests.tokens import family_token

CATALOGUE = Catalogue(served_document())
GLOBAL = [o for o in CATALOGUE.global_operations if (o.method, o.path) in GLOBAL_OPERATIONS]


def global_request(operation: Operation, token: str | None) -> Request:
    """The operation with its example body; a path parameter (a staff oid) is a random id, so
    an Admin's ``PUT`` makes a new entry rather than changing the borough's staff."""
    path = operation.path
    for name in operation.parameters:
        path = path.replace("{" + name + "}", uid())
    return Request(operation.method, path, token, minimal_body(CATALOGUE.schemas, operation))


def pull_all(client: Client, token: str | None, since: str | None = None) -> tuple[bytes, str]:
    """Every page of a sync pull as JSON text, and the last ``next``."""
    changes, following = client.pull(token, since)
    return json.dumps(changes).encode(), following


@pytest.mark.parametrize("caller", [*OUTSIDERS, ANONYMOUS])
@pytest.mark.parametrize("operation", GLOBAL, ids=lambda o: o.operation_id)
def test_no_answer_outside_a_family_says_anything_of_family_a(
    borough: Borough, client: Client, operation: Operation, caller: str
) -> None:
    answer = client.send(global_request(operation, borough.token(caller)))
    assert answer.status < 500, answer.describe()
    assert not leaks(answer, borough.secrets), answer.describe()
    if operation.secured and caller == ANONYMOUS:
        assert answer.status == 401
        assert answer.header("WWW-Authenticate") == "Bearer"


def test_family_a_is_in_its_allocated_workers_lists_and_pull(
    borough: Borough, client: Client
) -> None:
    """The control for the checks above and below: where family A is visible, it is found."""
    token = borough.token(ALLOCATED)
    me = client.call("GET", "/me", token)
    assert borough.family_a in me.json()["familyIds"]
    assert leaks(client.call("GET", "/families", token), {borough.family_a})
    snapshot, _ = pull_all(client, token)
    assert borough.marker.encode() in snapshot


def test_family_as_waiting_words_are_listed_for_its_manager_and_no_one_else(
    borough: Borough, client: Client
) -> None:
    """The control for ``GET /words/unacknowledged``: family A's team manager finds family A's
    entry there (every entry waits at once in this suite); outsiders' answers are checked above."""
    answer = client.call("GET", "/words/unacknowledged", borough.token(TEAM_A_MANAGER))
    assert answer.status == 200, answer.describe()
    assert leaks(answer, {borough.family_a})
    for caller in (ALLOCATED, ADMIN, FAMILY_A_MEMBER):
        refused = client.call("GET", "/words/unacknowledged", borough.token(caller))
        assert refused.status == 403, refused.describe()


@pytest.mark.parametrize("caller", OUTSIDERS)
def test_an_outsiders_sync_pulls_never_name_family_a(
    borough: Borough, client: Client, caller: str
) -> None:
    token = borough.token(caller)
    snapshot, since = pull_all(client, token)
    assert not leaks(snapshot, borough.secrets)
    note = client.call(
        "POST",
        f"/families/{borough.family_a}/notes",
        borough.token(ALLOCATED),
        {"body": f"{borough.marker} written during a pull", "visibility": "family"},
    )
    assert note.status == 201
    delta, _ = pull_all(client, token, since)
    secrets = {*borough.secrets, note.json()["id"]}
    assert not leaks(delta, secrets)


def hidden_secrets(borough: Borough) -> set[str]:
    """Ids and texts of family A's records its own member may not see."""
    found: set[str] = set()
    for target in borough.catalogue.targets():
        for slot in hidden_from_family(borough.catalogue, target):
            record = borough.records[slot.key]
            found |= {record.id, f"{borough.marker} {record.collection} {record.variant}"}
    return found


def test_family_as_member_is_shown_nothing_hidden_from_them(
    borough: Borough, client: Client
) -> None:
    """Every read of family A its member may make, and their sync pull, leave out the records
    they may not see (the cases in test_object_access show those are 404 one by one)."""
    hidden = hidden_secrets(borough)
    assert hidden
    token = borough.token(FAMILY_A_MEMBER)
    reads = [
        t
        for t in borough.catalogue.targets()
        if t.operation.method == "GET" and not hidden_from_family(borough.catalogue, t)
    ]
    answers = client.send_all(
        [Request("GET", path_of(t.operation.path, borough.values(t)), token) for t in reads]
    )
    assert any(a.status == 200 for a in answers)
    for answer in answers:
        assert not leaks(answer, hidden), answer.request.as_text()
    snapshot, _ = pull_all(client, token)
    assert not leaks(snapshot, hidden)
    assert borough.family_a.encode() in snapshot


def hidden_from_granted_partner(borough: Borough) -> set[str]:
    """Ids and texts of family A's records the partner granted its agendas and notes may not
    see (every record of a kind the grant does not cover, and those of such kinds not shown to
    partners), its members' names and phones, and the family's dispute of a note."""
    marker = borough.marker
    found: set[str] = {*borough.phones, f"{marker} parent", f"{marker} child", f"{marker} disputed"}
    for target in borough.catalogue.targets():
        for slot in hidden_from_partner(borough.catalogue, target):
            if slot.collection == "families" or slot.in_body:
                continue
            record = borough.records[slot.key]
            found |= {record.id, f"{borough.marker} {record.collection} {record.variant}"}
    return found


@pytest.mark.skipif(not grants_served(), reason="the app does not grant partners yet")
def test_a_granted_partner_is_shown_nothing_outside_their_grant(
    borough: Borough, client: Client
) -> None:
    """Every read of family A the granted partner may make, and their sync pull, leave out
    what their grant does not cover (the cases in test_object_access show those are 404 one by
    one), and show the family by its id, name and team alone."""
    hidden = hidden_from_granted_partner(borough)
    assert borough.records[("notes", "professionals")].id in hidden
    token = borough.token(PARTNER_GRANTED)
    reads = [
        t
        for t in borough.catalogue.targets()
        if t.operation.method == "GET" and not hidden_from_partner(borough.catalogue, t)
    ]
    answers = client.send_all(
        [Request("GET", path_of(t.operation.path, borough.values(t)), token) for t in reads]
    )
    assert any(a.status == 200 for a in answers)
    for answer in answers:
        assert answer.status in {200, 403}, answer.describe()
        assert not leaks(answer, hidden), answer.request.as_text()
    snapshot, _ = pull_all(client, token)
    assert not leaks(snapshot, hidden)
    assert borough.records[("notes", "partners")].id.encode() in snapshot
    family = client.call("GET", f"/families/{borough.family_a}", token).json()
    assert set(family) == {"id", "displayName", "teamId"}


def path_of(template: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def sync_operations(family: str, ids: dict[str, str], create: bool) -> list[dict[str, Any]]:
    """Queued operations on family A's records (or, with random ids, on nothing), and with
    ``create`` a new note in the family."""

    def op(kind: str, action: str, record: str, **rest: Any) -> dict[str, Any]:
        envelope = {"opId": f"security-{uid()}", "type": kind, "action": action, "id": record}
        return {**envelope, "familyId": family, **rest}

    never = "security-suite-never-a-version"
    comment = {"targetType": "notes", "targetId": ids["note"], "body": "Hello"}
    found = [
        op("note", "update", ids["note"], baseVersion=never, data={"body": "Changed"}),
        op("note", "delete", ids["note"], baseVersion=never),
        op("comment", "create", uid(), data=comment),
        op("agendaItem", "create", uid(), data={"agendaId": ids["agenda"], "text": "An item"}),
        op("chronologyEvent", "update", ids["event"], baseVersion=never, data={"summary": "X"}),
    ]
    if "visit" in ids:  # a visit is shown to the family, so not sent as a hidden record
        found.append(op("visitSignOff", "create", ids["visit"], baseVersion=never))
    if create:
        found.append(op("note", "create", uid(), data={"body": "Pushed by an outsider"}))
    return found


def without_echo(result: dict[str, Any]) -> dict[str, Any]:
    """A push result less what only repeats the caller's own operation (its opId and id)."""
    return {k: v for k, v in result.items() if k not in {"opId", "id"}}


PUSH_CASES = [
    *[(caller, "family", "outsider") for caller in OUTSIDERS],
    (FAMILY_A_MEMBER, "professionals", "hidden"),
    *([(PARTNER_GRANTED, "professionals", "hidden")] if grants_served() else []),
    *[(c, "family", "own-family") for c in (UNALLOCATED, TEAM_B_WORKER, TEAM_B_MANAGER)],
]


@pytest.mark.parametrize(
    ("caller", "visibility", "mode"), PUSH_CASES, ids=[f"{c}-{m}" for c, _, m in PUSH_CASES]
)
def test_pushed_operations_on_family_as_records_are_rejected_as_for_random_ids(
    borough: Borough, client: Client, caller: str, visibility: str, mode: str
) -> None:
    """``POST /sync`` names records in its body, not its path: the same rules hold. An outsider
    (also creating a note in family A), family A's member on records hidden from them, and a
    caller naming family A's records inside their own family are rejected exactly as for
    random ids."""
    note = borough.records[("notes", visibility)].id
    agenda = borough.records[("agendas", visibility)].id
    home = borough.caller(caller).home
    family = home if mode == "own-family" and home else borough.family_a
    elsewhere = str(uuid.uuid4()) if mode == "outsider" else family
    outsider = mode == "outsider"
    token = borough.token(caller)
    event = borough.records[("chronology", visibility)].id
    named = {"note": note, "agenda": agenda, "event": event}
    randoms = {"note": uid(), "agenda": uid(), "event": uid()}
    if mode != "hidden":
        named["visit"], randoms["visit"] = borough.records[("visits", ANY)].id, uid()
    real = sync_operations(family, named, create=outsider)
    fake = sync_operations(elsewhere, randoms, create=outsider)
    pushed, baseline = client.send_all(
        [
            Request("POST", "/sync", token, {"operations": real}),
            Request("POST", "/sync", token, {"operations": fake}),
        ]
    )
    assert pushed.status == baseline.status == 200, differs(pushed, baseline)
    results = pushed.json()["results"]
    assert [r["status"] for r in results] == ["rejected"] * len(real), pushed.describe()
    assert [without_echo(r) for r in results] == [
        without_echo(r) for r in baseline.json()["results"]
    ], differs(pushed, baseline)
    assert not leaks(pushed, borough.secrets - set(named.values())), pushed.describe()
    for result in results:
        assert result["problem"]["status"] in ({404, 403} if mode == "own-family" else {404})


def test_a_live_invitation_code_of_family_a_is_answered_as_a_random_code(
    borough: Borough, client: Client
) -> None:
    """The sibling's code is live and unredeemed; a family sign-in whose verified phone is not
    the sibling's learns no more from it than from a code that never existed."""
    for attempt in range(2):
        stranger = family_token(
            oid=uid(), phone_number=f"+44770090{attempt:04d}", phone_number_verified=True
        )
        live, random = client.send_all(
            [
                Request("POST", "/invitations/redeem", stranger, {"code": borough.pending_code}),
                Request("POST", "/invitations/redeem", stranger, {"code": "ZZZZ22ZZZZ"}),
            ]
        )
        assert live.status == 404, live.describe()
        assert live.fingerprint() == random.fingerprint(), differs(live, random)
    for caller in OUTSIDERS:
        staff_or_family = borough.token(caller)
        live, random = client.send_all(
            [
                Request(
                    "POST", "/invitations/redeem", staff_or_family, {"code": borough.pending_code}
                ),
                Request("POST", "/invitations/redeem", staff_or_family, {"code": "ZZZZ22ZZZZ"}),
            ]
        )
        assert live.fingerprint() == random.fingerprint(), differs(live, random)


@pytest.mark.parametrize("caller", [c for c in (*OUTSIDERS, ANONYMOUS) if c != ADMIN])
def test_only_admin_changes_staff_and_a_refusal_is_the_same_for_known_and_random_staff(
    borough: Borough, client: Client, caller: str
) -> None:
    body = minimal_body(CATALOGUE.schemas, next(o for o in GLOBAL if o.method == "PUT"))
    known = borough.caller(ALLOCATED).oid
    real, random = client.send_all(
        [
            Request("PUT", f"/staff/{known}", borough.token(caller), body),
            Request("PUT", f"/staff/{uid()}", borough.token(caller), body),
        ]
    )
    assert real.status in {401, 403}, real.describe()
    assert real.fingerprint() == random.fingerprint(), differs(real, random)


@pytest.mark.parametrize("caller", OUTSIDERS)
def test_family_as_id_is_refused_to_a_creator_without_showing_family_a(
    borough: Borough, client: Client, caller: str
) -> None:
    """Family ids are global, so a create naming family A's id cannot succeed: API.md answers
    409 (the id is taken), with ``current`` only for a caller who may see it. Any other
    refusal (a role that may not create families) is the same as for a random id."""
    outsider: Caller = borough.caller(caller)
    team = borough.team_b if caller in {TEAM_B_WORKER, TEAM_B_MANAGER} else borough.team_a
    body = {"displayName": "Taken", "teamId": team}
    taken = client.call("POST", "/families", outsider.token, {**body, "id": borough.family_a})
    assert not leaks(taken, borough.secrets - {borough.family_a}), taken.describe()
    if taken.status == 409:
        assert "current" not in taken.json(), taken.describe()
        return
    random = client.call("POST", "/families", outsider.token, {**body, "id": uid()})
    assert taken.fingerprint() == random.fingerprint(), differs(taken, random)


@pytest.mark.skipif(REVOKED not in OUTSIDERS, reason="the app does not revoke sign-ins yet")
def test_a_revoked_sign_in_is_told_only_that_what_it_saw_is_gone(
    borough: Borough, client: Client
) -> None:
    """After its revocation, the sign-in's next pull from a token it held before answers what
    it could see as deleted (API.md v1.1), and names nothing it could never see."""
    changes, _ = client.pull(borough.token(REVOKED), borough.revoked_since)
    gone = [c for c in changes if c["familyId"] == borough.family_a]
    assert gone, "the revocation reached the sign-in's pull"
    assert all(c["deleted"] and c["data"] is None for c in gone), gone
    assert not leaks(json.dumps(changes).encode(), hidden_secrets(borough))


def test_a_team_managers_evaluation_of_another_team_is_answered_as_for_a_random_team(
    borough: Borough, client: Client
) -> None:
    month = (("from", "2026-11-02"), ("to", "2026-11-29"))
    own, theirs, random = client.send_all(
        [
            Request("GET", "/evaluation", borough.token(TEAM_A_MANAGER),
                    query=(*month, ("teamId", borough.team_a))),
            Request("GET", "/evaluation", borough.token(TEAM_B_MANAGER),
                    query=(*month, ("teamId", borough.team_a))),
            Request("GET", "/evaluation", borough.token(TEAM_B_MANAGER),
                    query=(*month, ("teamId", f"team-{uuid.uuid4().hex[:8]}"))),
        ]
    )  # fmt: skip
    assert own.status == 200, own.describe()
    assert [t["teamId"] for t in own.json()["teams"]] == [borough.team_a]
    assert theirs.status == 404, theirs.describe()
    assert theirs.fingerprint() == random.fingerprint(), differs(theirs, random)
    assert not leaks(own, borough.secrets), own.describe()
