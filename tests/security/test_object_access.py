"""Every per-object operation of the served OpenAPI document, aimed at each of family A's records,
as every caller who may not see it: a 404 no different from a random id's, holding nothing of
family A. ``oracle.py`` has the rules, ``catalogue.py`` how operations are found and aimed.

Defects the suite finds are marked ``xfail(strict=True)`` in ``KNOWN_DEFECTS``, by case id, so
a fix makes the suite fail until its mark is removed.
"""

from __future__ import annotations

import re
from typing import Any, cast

import pytest

from shared.audit_chain import seal_order
from shared.bootstrap import get_runtime
from shared.storage_layout import AUDIT
from tests.security.borough import HEAD_OF_SERVICE, INSIDERS, OUTSIDERS, TWINS, Borough
from tests.security.catalogue import Catalogue, Operation, Target, served_document
from tests.security.client import Answer, Client
from tests.security.oracle import (
    INVALID_BODY_SENDERS,
    Case,
    case_requests,
    cases,
    differs,
    leaks,
    replaced,
    request_for,
    with_invalid_body,
)

# Defects the suite finds today: a case id pattern (``*`` matches anything, e.g.
# ``"notes_get[notes.professionals]-*"``) and the defect its cases show, with the request.
KNOWN_DEFECTS: dict[str, str] = {}

CATALOGUE = Catalogue(served_document())


def matches(pattern: str, case_id: str) -> bool:
    return re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), case_id) is not None


def marked(case: Case) -> Any:
    reasons = [text for pattern, text in KNOWN_DEFECTS.items() if matches(pattern, case.id)]
    marks = [pytest.mark.xfail(strict=True, reason=reasons[0])] if reasons else []
    return pytest.param(case, id=case.id, marks=marks)


@pytest.fixture(scope="module")
def answers(
    request: pytest.FixtureRequest, borough: Borough, client: Client
) -> dict[str, list[Answer]]:
    """Every selected case's answers, their requests sent at once on the client's pool: cases
    are independent (nothing an outsider sends may change family A, and anything that does fails
    its case). All are answered before the first case runs: pytest sets an environment variable
    between tests, and the HTTP library under the Cosmos DB SDK reads the environment on every
    call, so no request may still be running then."""
    selected = [
        cast("Case", item.callspec.params["case"])
        for item in request.session.items
        if isinstance(item, pytest.Function)
        and item.originalname == "test_an_outsider_learns_nothing"
    ]
    sent = {
        case.id: [client.pool.submit(client.send, r) for r in case_requests(borough, case)]
        for case in selected
    }
    return {case_id: [future.result() for future in futures] for case_id, futures in sent.items()}


@pytest.mark.parametrize("case", [marked(case) for case in cases(CATALOGUE)])
def test_an_outsider_learns_nothing(
    borough: Borough, answers: dict[str, list[Answer]], case: Case
) -> None:
    hidden = case.hidden(borough.catalogue)
    answered = answers[case.id]
    real, others = answered[0], answered[1 : 1 + len(hidden)]
    allowed = case.allowed()
    assert real.status in allowed, (
        f"{case.caller} may not see this, so it is {' or '.join(map(str, sorted(allowed)))}:"
        f"\n  {real.request.as_text()}\n    -> {real.describe()}"
    )
    for slot, other in zip(hidden, others, strict=True):
        assert other.fingerprint() == real.fingerprint(), (
            f"the answer tells {slot.name} of family A from a random id:{differs(real, other)}"
        )
    if case.sends_invalid_body:
        invalid, elsewhere = answered[-2:]
        allowed = case.allowed(invalid_body=True)
        assert invalid.status in allowed, f"{invalid.request.as_text()}\n  -> {invalid.describe()}"
        assert invalid.fingerprint() == elsewhere.fingerprint(), (
            f"an invalid body is answered differently for family A's ids:"
            f"{differs(invalid, elsewhere)}"
        )
    for answer in answered:
        found = leaks(answer, borough.secrets)
        assert not found, f"{answer.request.as_text()}\n  -> {answer.describe()}\n  holds {found}"
    if real.status == 401:
        assert real.header("WWW-Authenticate") == "Bearer"


WRITES = [o for o in CATALOGUE.per_object if o.body_media() is not None]


@pytest.mark.parametrize("operation", WRITES, ids=lambda o: o.operation_id)
def test_an_operation_checks_body_and_access_in_one_order_whoever_asks(
    borough: Borough, client: Client, operation: Operation
) -> None:
    """An invalid body aimed at family A is a 404 for every outsider (the operation checks the
    family first) or a 422 for every outsider (it checks the body first): one order per
    operation, whoever asks. See ``oracle.py`` for which operations use which today."""
    target = next(t for t in CATALOGUE.targets() if t.operation == operation)
    senders = [c for c in OUTSIDERS if c in INVALID_BODY_SENDERS]
    requests = [
        with_invalid_body(request_for(borough, target, c, borough.values(target))) for c in senders
    ]
    statuses = {c: a.status for c, a in zip(senders, client.send_all(requests), strict=True)}
    assert len(set(statuses.values())) == 1, statuses
    assert set(statuses.values()) <= {404, 422}, statuses


def found_by(borough: Borough, client: Client, target: Target, insider: str) -> bool:
    """Whether the insider's request shows the record is there: a success, a 412 (from the
    If-Match no record has), or a 403 where a random id gets a 404. A change that takes no
    If-Match (it declares no 412) is not sent: its record is looked for in the list above it."""
    operation = target.operation
    values = borough.values(target)
    if operation.method in {"PUT", "PATCH", "DELETE"} and 412 not in operation.statuses():
        listing = operation.path.rsplit("/", 1)[0]
        for name, value in values.items():
            listing = listing.replace("{" + name + "}", value)
        listed = client.call("GET", listing, borough.token(insider))
        return listed.status == 200 and values[target.record_slots[-1].name] in listed.raw.decode()
    real = client.send(request_for(borough, target, insider, values))
    assert real.status != 422, f"the suite's body is invalid:\n  {real.request.as_text()}"
    if real.status < 300 or real.status in {304, 412}:
        return True
    if real.status != 403:
        return False
    elsewhere = replaced(values, list(target.record_slots or target.slots))
    return client.send(request_for(borough, target, insider, elsewhere)).status == 404


@pytest.mark.parametrize("operation", CATALOGUE.per_object, ids=lambda o: o.operation_id)
def test_an_insider_reaches_what_outsiders_are_refused(
    borough: Borough, client: Client, operation: Operation
) -> None:
    """Each operation, aimed as the cases aim it, reaches a real record for someone, so the
    outsiders' 404s above are refusals, not requests aimed at nothing. (Some aims reach nothing
    for anyone: no one disputes a note only staff can see. Every record aimed at exists:
    ``test_family_a_still_holds_every_record_the_suite_aimed_at``.) Run after the outsiders,
    as these requests may create records."""
    aims = [t for t in CATALOGUE.targets() if t.operation == operation]
    assert any(
        found_by(borough, client, target, insider) for target in aims for insider in INSIDERS
    ), f"no insider reaches {operation.operation_id}: the suite aims it at nothing"


@pytest.mark.parametrize("copy", range(1 + TWINS), ids=lambda n: f"story{n}")
def test_no_outsider_request_changed_family_a(borough: Borough, copy: int) -> None:
    """Family A's audit trail holds every attempt on it. A write is audited before it is made,
    and its outcome follows when it is not ``ok`` (``shared/records/service.py``), so each of an
    outsider's ``ok`` events since the family was built must be followed by a refusal of the
    same action on the same record: none of their attempts changed anything."""
    story = borough.stories[copy]
    outsiders = {(borough.caller(n).kind, borough.caller(n).oid) for n in OUTSIDERS}
    container = get_runtime().database.get_container_client(AUDIT.name)
    written = container.query_items(
        "SELECT * FROM c WHERE c.familyId = @family AND c.type = 'audit'",
        parameters=[{"name": "@family", "value": story.family_a}],
        partition_key=story.family_a,
    )
    events = sorted((e for e in written if e["id"] not in story.audit_mark), key=seal_order)
    unanswered: dict[tuple[str, ...], dict[str, Any]] = {}
    for event in events:
        actor = event["actor"]
        if (actor["kind"], actor["oid"]) not in outsiders:
            continue
        key = (actor["oid"], event["action"], event["recordType"], str(event["recordId"]))
        if event["outcome"] == "ok":
            unanswered[key] = event
        else:
            unanswered.pop(key, None)
    assert not unanswered, list(unanswered.values())


@pytest.mark.parametrize("copy", range(1 + TWINS), ids=lambda n: f"story{n}")
def test_family_a_still_holds_every_record_the_suite_aimed_at(borough: Borough, copy: int) -> None:
    """Nothing was deleted under the cases: a deleted record would make their 404s hollow."""
    story = borough.stories[copy]
    stored = {record["id"]: record for record in story.exported()}
    for record in story.records.values():
        if record.listed_at is not None:
            listed = story.client.call("GET", record.listed_at, story.token(HEAD_OF_SERVICE))
            assert record.id in listed.raw.decode(), record
        else:
            assert record.id in stored, record
            assert not stored[record.id].get("deleted"), record
