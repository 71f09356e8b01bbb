"""Family A's ids where no path parameter carries them: the client-chosen ``id`` of a create, and
the page and sync tokens an insider was given."""

from __future__ import annotations

from typing import Any

import pytest

from tests.security.borough import (
    ALLOCATED,
    FAMILY_A_MEMBER,
    OUTSIDERS,
    TEAM_A_MANAGER,
    WITH_OWN_FAMILY,
    Borough,
    Story,
    uid,
)
from tests.security.catalogue import FAMILIES, Catalogue, Target, collection_of, served_document
from tests.security.client import Answer, Client, Request
from tests.security.oracle import differs, hidden_from_family, leaks, random_id, replaced

CATALOGUE = Catalogue(served_document())


def is_list(target: Target) -> bool:
    ok = target.operation.spec.get("responses", {}).get("200", {})
    schema = ok.get("content", {}).get("application/json", {}).get("schema", {})
    return "next" in CATALOGUE.schemas.resolve(schema).get("required", [])


def takes_an_id(target: Target) -> bool:
    media = target.operation.body_media()
    if target.operation.method != "POST" or media is None or not isinstance(target.body, dict):
        return False
    schema = CATALOGUE.schemas.concrete(media.get("schema", {}))
    return "id" in schema.get("properties", {})


def created_collection(target: Target) -> str:
    return target.operation.segments[-1]


LISTS = [t for t in CATALOGUE.targets() if t.operation.method == "GET" and is_list(t)]
# Creates of records (not of parts of one, such as an agenda's items) whose id the client chooses.
CREATES = [
    t
    for t in CATALOGUE.targets()
    if takes_an_id(t) and created_collection(t) in CATALOGUE.item_collections()
]


def path_of(target: Target, values: dict[str, str]) -> str:
    path = target.operation.path
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    return path


def existing_id(story: Story, target: Target) -> str:
    """A record of family A of the kind the target creates (for a comment, on its target)."""
    collection = created_collection(target)
    if collection == "comments":
        aimed = target.record_slots[-1]
        wanted = CATALOGUE.visibility(aimed.collection, aimed.variant)
        return next(
            r.id
            for r in story.records.values()
            if r.collection == collection and r.visibility == wanted
        )
    return story.records[(collection, CATALOGUE.variants(collection)[0])].id


@pytest.mark.parametrize("target", CREATES, ids=lambda t: t.id)
def test_an_outsider_creating_with_family_as_id_learns_nothing(
    borough: Borough, client: Client, target: Target
) -> None:
    requests: list[Request] = []
    for caller in OUTSIDERS:
        story = borough.story_for(caller)
        taken = existing_id(story, target)
        values = story.values(target)
        path = path_of(target, values)
        elsewhere = path_of(target, replaced(values, list(target.slots)))
        token = borough.token(caller)
        requests += [
            Request("POST", path, token, {**target.body, "id": taken}),
            Request("POST", elsewhere, token, {**target.body, "id": random_id()}),
        ]
    answers = client.send_all(requests)
    for real, random in zip(answers[::2], answers[1::2], strict=True):
        assert real.status == 404, real.describe()
        assert real.fingerprint() == random.fingerprint(), differs(real, random)
        assert not leaks(real, borough.secrets), real.describe()


def hidden_ids(borough: Borough) -> dict[str, set[str]]:
    """Ids of records hidden from family A's member, by the collection that creates them."""
    found: dict[str, set[str]] = {}
    for target in CATALOGUE.targets():
        for slot in hidden_from_family(CATALOGUE, target):
            found.setdefault(slot.collection, set()).add(borough.records[slot.key].id)
    return found


@pytest.mark.parametrize(
    "target",
    [t for t in CREATES if not hidden_from_family(CATALOGUE, t)],
    ids=lambda t: t.id,
)
def test_a_family_member_creating_with_a_hidden_records_id_is_never_shown_it(
    borough: Borough, client: Client, target: Target
) -> None:
    """Ids are chosen by clients and unique in a family, so a create naming a hidden record's id
    cannot succeed. API.md answers 409 and includes ``current`` only for a caller who may see
    it: the 409 admits that the id is taken (a residual oracle the contract accepts for ids a
    caller already holds), and must show nothing of the record."""
    token = borough.token(FAMILY_A_MEMBER)
    path = path_of(target, borough.values(target))
    body: dict[str, Any] = {k: v for k, v in target.body.items() if k != "visibility"}
    for hidden in sorted(hidden_ids(borough).get(created_collection(target), set())):
        taken = client.send(Request("POST", path, token, {**body, "id": hidden}))
        assert taken.status in {403, 404, 409}, taken.describe()
        assert not leaks(taken, borough.secrets - {hidden}), taken.describe()
        if taken.status == 409:
            assert taken.json().get("current") is None, taken.describe()
        else:
            fresh = client.send(Request("POST", path, token, {**body, "id": uid()}))
            assert taken.fingerprint() == fresh.fingerprint(), differs(taken, fresh)


def first_page(client: Client, borough: Borough, target: Target) -> str | None:
    """The ``next`` token of a one-item page of the list, as an insider who may read it."""
    path = path_of(target, borough.values(target))
    for insider in (ALLOCATED, TEAM_A_MANAGER):
        page = client.call("GET", path, borough.token(insider), query={"limit": "1"})
        if page.status == 200:
            following = page.json().get("next")
            return str(following) if following else None
    return None


def replayed_page(borough: Borough, target: Target, token: str) -> list[Request]:
    """The page token sent by every outsider to family A's list and to a random family's, and
    by every caller with a family of their own to the same list of that family."""
    query = (("next", token),)
    values = borough.values(target)
    elsewhere = replaced(values, list(target.slots))
    requests = [
        Request("GET", path_of(target, filled), borough.token(caller), query=query)
        for caller in OUTSIDERS
        for filled in (values, elsewhere)
    ]
    for caller in WITH_OWN_FAMILY:
        home = borough.caller(caller).home
        if home is not None and not target.record_slots:
            own = path_of(target, borough.values(target, family=home))
            requests.append(Request("GET", own, borough.token(caller), query=query))
    return requests


def test_an_insiders_page_tokens_open_nothing_for_anyone_else(
    borough: Borough, client: Client
) -> None:
    """Every list of family A with more than one item, paged one at a time by an insider: the
    page token, sent by an outsider, is answered as for a random family; sent to the same list
    of the caller's own family, it is refused (a token is sealed to its caller and its list)."""
    tokens = {target.id: first_page(client, borough, target) for target in LISTS}
    paged = [(target, token) for target in LISTS if (token := tokens[target.id])]
    assert paged, "family A has lists of more than one item"
    for target, token in paged:
        requests = replayed_page(borough, target, token)
        answers = client.send_all(requests)
        outsiders = answers[: 2 * len(OUTSIDERS)]
        for real, random in zip(outsiders[::2], outsiders[1::2], strict=True):
            assert real.status == 404, real.describe()
            assert real.fingerprint() == random.fingerprint(), differs(real, random)
        for answer in answers[2 * len(OUTSIDERS) :]:
            refused = {400, 403, 404}  # 403: their role may not read that list at all
            assert answer.status in refused, f"{answer.request.as_text()} -> {answer.describe()}"
        for answer in answers:
            assert not leaks(answer, borough.secrets), answer.describe()


def test_an_insiders_sync_token_opens_nothing_for_anyone_else(
    borough: Borough, client: Client
) -> None:
    page = client.call("GET", "/sync", borough.token(ALLOCATED), query={"limit": "1"})
    assert page.status == 200, page.describe()
    assert page.json()["more"], "the allocated worker's pull has more than one change"
    since = str(page.json()["next"])
    answers: list[Answer] = client.send_all(
        [
            Request("GET", "/sync", borough.token(caller), query=(("since", since),))
            for caller in (*OUTSIDERS, FAMILY_A_MEMBER)
        ]
    )
    for answer in answers:
        assert answer.status == 400, answer.describe()
        assert not leaks(answer, borough.secrets), answer.describe()


def references(target: Target) -> list[tuple[str, str]]:
    """The optional members of a create's body that name another record: (member, collection)."""
    media = target.operation.body_media()
    if media is None or not isinstance(target.body, dict):
        return []
    properties = CATALOGUE.schemas.concrete(media.get("schema", {})).get("properties", {})
    collections = CATALOGUE.item_collections() - {FAMILIES}
    found = []
    for name, schema in properties.items():
        collection = collection_of(name, collections)
        if collection and CATALOGUE.schemas.is_id(schema) and name not in target.body:
            found.append((name, collection))
    return found


REFERENCES = [(t, name, c) for t in CREATES for name, c in references(t)]


@pytest.mark.parametrize(
    ("target", "member", "collection"),
    REFERENCES,
    ids=[f"{t.id}-{member}" for t, member, _ in REFERENCES],
)
def test_a_reference_to_a_record_the_caller_may_not_see_is_answered_as_a_random_one(
    borough: Borough, client: Client, target: Target, member: str, collection: str
) -> None:
    """A create may name another record (a note's ``visitId``, a photo's ``noteId``). Naming one
    of family A's inside the caller's own family, or one family A's member may not see inside
    family A, is answered as naming a random id is (whether both are refused or both made)."""
    requests: list[tuple[Request, Request]] = []
    for caller in WITH_OWN_FAMILY:
        home = borough.caller(caller).home
        assert home is not None
        own = path_of(target, borough.values(target, family=home))
        for variant in CATALOGUE.by_visibility(collection):
            taken = borough.records[(collection, variant)].id
            requests.append(pair(own, borough.token(caller), target.body, member, taken))
    if not hidden_from_family(CATALOGUE, target):
        path = path_of(target, borough.values(target))
        body = {k: v for k, v in target.body.items() if k != "visibility"}
        for variant in CATALOGUE.by_visibility(collection):
            if CATALOGUE.visibility(collection, variant) not in {None, "family"}:
                hidden = borough.records[(collection, variant)].id
                requests.append(pair(path, borough.token(FAMILY_A_MEMBER), body, member, hidden))
    answers = client.send_all([r for both in requests for r in both])
    for real, random in zip(answers[::2], answers[1::2], strict=True):
        assert real.status == random.status, differs(real, random)
        if real.status >= 400:
            assert real.fingerprint() == random.fingerprint(), differs(real, random)
        named = real.request.body[member]
        assert not leaks(real, borough.secrets - {named}), real.describe()


def pair(
    path: str, token: str | None, body: Any, member: str, taken: str
) -> tuple[Request, Request]:
    """The create naming ``taken``, and the same create naming a random id."""
    return (
        Request("POST", path, token, {**body, member: taken}),
        Request("POST", path, token, {**body, member: random_id()}),
    )
