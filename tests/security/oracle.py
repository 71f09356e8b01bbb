"""Who is an outsider to what, the requests each one sends, and what their answers may say.

Rules (API.md, "Identity and access"): a record outside the caller's reach answers 404, never
403 (403 is for a caller who can see the record but whose role may not do this), and ids leak
nothing. So an outsider's answer must be exactly the answer to the same request with any id
they may not see replaced by a random UUID (ignoring only members of a problem that differ
per request, see ``client.VOLATILE_MEMBERS``), and must hold nothing of family A.

Four kinds of case:

- ``outsider``: a caller who may not see family A at all (a worker not allocated to it, team
  B's worker and manager, Admin, family B's member, a family sign-in linked to no family, a
  partner without a grant, partners whose grant expired or was revoked, a granted token without
  the ``Partner`` role, a partner granted family B, a family sign-in with the allocated worker's
  oid claiming staff roles, a revoked sign-in) aims the request at family A: 404 (anonymous: 401
  with ``WWW-Authenticate: Bearer``). Each id is replaced in turn: the family, then each
  record.
- ``hidden``: family A's own member names a record they may not see (a visibility other than
  ``family``, or a comment on such a record): 404.
- ``partner-hidden``: a partner granted family A's agendas and notes aims at what the grant does
  not cover: any other collection or endpoint of the family (members, visits, plans, media,
  grants, the audit trail, the export, ...: the whole family is then hidden, as from an
  outsider) or a record of a covered kind they may not see (``professionals``, or a comment on
  one): 404.
- ``own-family``: a caller with a family of their own names family A's records inside it
  (``/families/B/notes/<A's note>``, ``{"memberId": <A's member>}``): 404, or the 403 their role
  gets for that operation whatever it names, but always the answer a random id gets.

Bodies: each operation gets a valid minimal body, so a 422 never stands in for a 404 (a 422
fails the case). Writes are also sent with a body that fails validation (an unknown member).
The order of the two checks differs between operations today: the generic record endpoints
(``create`` and the merge patches in ``functions/case_records.py``, which media and comment
patches share) check the family before the body, and every other operation validates the body
first, so an outsider gets 404 from the former and 422 from the latter. Either is safe only if
the order never depends on the object, which is what is asserted: an invalid body's answer is
byte for byte the answer for random ids, and is a 404 or a 422, never a 403.

``PATCH`` and ``DELETE`` carry an ``If-Match`` no record can have: should an access check ever
be missing, the request stops at 412, failing its case without changing family A. (A delete
that takes no ``If-Match``, such as revoking a sign-in, has no such guard: a missing check
there fails its case and the final ``test_family_a_still_holds_every_record_the_suite_aimed_at``.)
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from tests.security.borough import (
    ADMIN,
    ANONYMOUS,
    FAMILY_A_MEMBER,
    FAMILY_B_MEMBER,
    OUTSIDERS,
    PARTNER,
    PARTNER_GRANTED,
    PARTNER_SCOPES,
    TEAM_B_WORKER,
    WITH_OWN_FAMILY,
    Borough,
    grants_served,
)
from tests.security.catalogue import PARAMETER, Catalogue, Slot, Target
from tests.security.client import Answer, Request

Mode = Literal["outsider", "hidden", "partner-hidden", "own-family"]

NEVER_A_VERSION = '"security-suite-never-a-version"'
INVALID_BODY = {"securitySuiteUnknownMember": True}
SEEN_BY_FAMILY = frozenset({None, "family"})
SEEN_BY_PARTNERS = frozenset({"family", "partners"})
# Whether the body or the object is checked first depends on the operation, not on who asks:
# these callers (a worker, Admin, a token without a case role, family members) cover the kinds
# of caller the app tells apart, and send the invalid bodies.
INVALID_BODY_SENDERS = frozenset({TEAM_B_WORKER, ADMIN, PARTNER, FAMILY_B_MEMBER, FAMILY_A_MEMBER})


@dataclass(frozen=True)
class Case:
    target: Target
    caller: str
    mode: Mode

    @property
    def sends_invalid_body(self) -> bool:
        return self.target.body is not None and self.caller in INVALID_BODY_SENDERS

    @property
    def id(self) -> str:
        suffix = "-own-family" if self.mode == "own-family" else ""
        return f"{self.target.id}-{self.caller}{suffix}"

    def allowed(self, invalid_body: bool = False) -> set[int]:
        if self.caller == ANONYMOUS:
            return {401}
        allowed = {404, 403} if self.mode == "own-family" else {404}
        return allowed | {422} if invalid_body else allowed

    def hidden(self, catalogue: Catalogue) -> list[Slot]:
        """The slots naming something this caller may not see: the ones to replace."""
        if self.mode == "outsider":
            return list(self.target.slots)
        if self.mode == "own-family":
            return list(self.target.record_slots)
        if self.mode == "partner-hidden":
            return hidden_from_partner(catalogue, self.target)
        return hidden_from_family(catalogue, self.target)


def hidden_from_family(catalogue: Catalogue, target: Target) -> list[Slot]:
    hidden: list[Slot] = []
    for slot in target.record_slots:
        if hidden or catalogue.visibility(slot.collection, slot.variant) not in SEEN_BY_FAMILY:
            hidden.append(slot)
    return hidden


def hidden_from_partner(catalogue: Catalogue, target: Target) -> list[Slot]:
    """What the partner granted family A's agendas and notes may not see of the target: the
    whole family, when the target's collection is not one their grant covers; otherwise each
    record (and all after it) of a kind not covered or a visibility partners do not see (a
    comment's target, named by ``/{targetType}/{targetId}``, is a record like any other)."""
    segments = target.operation.segments
    if len(segments) == 2:
        return []  # the family itself
    collection = segments[2]
    if not PARAMETER.match(collection) and collection not in (*PARTNER_SCOPES, "comments"):
        return list(target.slots)
    hidden: list[Slot] = []
    for slot in target.record_slots:
        kind = slot.variant.split(".", 1)[0] if slot.collection == "comments" else slot.collection
        seen = catalogue.visibility(slot.collection, slot.variant) in SEEN_BY_PARTNERS
        if hidden or kind not in PARTNER_SCOPES or not seen:
            hidden.append(slot)
    return hidden


def cases(catalogue: Catalogue) -> Iterator[Case]:
    for target in catalogue.targets():
        for caller in (*OUTSIDERS, ANONYMOUS):
            yield Case(target, caller, "outsider")
        if hidden_from_family(catalogue, target):
            yield Case(target, FAMILY_A_MEMBER, "hidden")
        if grants_served() and hidden_from_partner(catalogue, target):
            yield Case(target, PARTNER_GRANTED, "partner-hidden")
        if target.record_slots:
            for caller in WITH_OWN_FAMILY:
                yield Case(target, caller, "own-family")


def random_id() -> str:
    return str(uuid.uuid4())


def request_for(borough: Borough, target: Target, caller: str, values: dict[str, str]) -> Request:
    """The target's request as ``caller``, its path parameters and id members ``values``."""
    operation = target.operation
    path = operation.path
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    body = target.body
    if isinstance(body, dict):
        body = {**body, **{s.name: values[s.name] for s in target.slots if s.in_body}}
    headers: tuple[tuple[str, str], ...] = ()
    if operation.method in {"PATCH", "DELETE"}:
        headers = (("If-Match", NEVER_A_VERSION),)
    return Request(operation.method, path, borough.token(caller), body, headers)


def with_invalid_body(request: Request) -> Request:
    return dataclasses.replace(request, body=INVALID_BODY)


def case_requests(borough: Borough, case: Case) -> list[Request]:
    """The real request; one per hidden slot, that slot a random id; and for a write, the real
    and the all-random request with an invalid body."""
    target, caller = case.target, case.caller
    values = real_values(borough, case)
    hidden = case.hidden(borough.catalogue)
    real = request_for(borough, target, caller, values)
    requests = [real]
    requests += [request_for(borough, target, caller, replaced(values, [s])) for s in hidden]
    if case.sends_invalid_body:
        elsewhere = request_for(borough, target, caller, replaced(values, hidden))
        requests += [with_invalid_body(real), with_invalid_body(elsewhere)]
    return requests


def real_values(borough: Borough, case: Case) -> dict[str, str]:
    """The case's ids: an outsider's in their copy of family A's story, family A's member's in
    family A, and those of a caller with a family of their own inside that family."""
    if case.mode == "outsider" and case.caller in OUTSIDERS:
        return borough.story_for(case.caller).values(case.target)
    home = borough.caller(case.caller).home if case.mode == "own-family" else None
    return borough.values(case.target, family=home)


def replaced(values: dict[str, str], slots: list[Slot]) -> dict[str, str]:
    return {**values, **{slot.name: random_id() for slot in slots}}


def leaks(answer: Answer | bytes, secrets: set[str]) -> list[str]:
    """The secrets an answer (or a body) holds, compared without regard to case."""
    raw = answer if isinstance(answer, bytes) else answer.raw
    text = raw.decode(errors="replace").lower()
    return sorted(secret for secret in secrets if secret.lower() in text)


def differs(real: Answer, other: Answer) -> str:
    return (
        f"\n  {real.request.as_text()}\n    -> {real.describe()}"
        f"\n  {other.request.as_text()}\n    -> {other.describe()}"
    )
