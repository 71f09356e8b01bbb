"""Every signed-in caller is rate limited, on the real Cosmos DB emulator: a flood of writes or
reads gets 429 with Retry-After once the caller's allowance is spent, no more than the
allowance gets through however the requests race, and the refusals are audited once."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from local.emulators import Emulators
from shared.adapters.cosmos_directory import CosmosCounters
from shared.bootstrap import get_runtime
from shared.settings import get_settings
from shared.storage_layout import AUDIT
from tests.functional.api import Response
from tests.functional.world import Person, World, link_family_member

RACERS = 40


def uid() -> str:
    return str(uuid.uuid4())


def race(request: Callable[[int], Response]) -> list[Response]:
    """``RACERS`` requests released together, each from its own thread."""
    answers: list[Response] = []
    barrier = threading.Barrier(RACERS)

    def run(index: int) -> None:
        barrier.wait()
        answers.append(request(index))

    threads = [threading.Thread(target=run, args=(index,)) for index in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def limited(monkeypatch: pytest.MonkeyPatch, **settings: int) -> None:
    for name, value in settings.items():
        monkeypatch.setenv(name, str(value))
    from shared.bootstrap import reset_runtime

    reset_runtime()


def new_family_member(world: World) -> Person:
    return link_family_member(world.family, world.records["member_self"], "+447700900123")


def refusals_noted(person: Person) -> list[dict[str, Any]]:
    partition = f"caller:{get_settings().family_tenant_id}:{person.oid}"
    container = get_runtime().database.get_container_client(AUDIT.name)
    return list(
        container.query_items(
            "SELECT * FROM c WHERE c.familyId = @p AND c.type = 'audit'",
            parameters=[{"name": "@p", "value": partition}],
            partition_key=partition,
        )
    )


def assert_refused(answer: Response, window: int) -> None:
    assert answer.status == 429, answer.body
    assert answer.body["type"].endswith("too-many-requests")
    assert 1 <= int(str(answer.header("Retry-After"))) <= window


def test_forty_racing_adds_to_a_counter_count_to_forty_exactly(stack: Emulators) -> None:
    counters = CosmosCounters.from_database(get_runtime().database)
    counter_id = f"ratelimit:test:{uid()}"
    counts: list[int] = []
    barrier = threading.Barrier(RACERS)

    def add() -> None:
        barrier.wait()
        counts.append(counters.add(counter_id, 1, 600))

    threads = [threading.Thread(target=add) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(counts) == list(range(1, RACERS + 1))


def test_a_family_member_flooding_writes_gets_429_after_the_allowance_and_one_audit_note(
    world: World, stack: Emulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    limited(monkeypatch, RATE_LIMIT_FAMILY_WRITES=10, RATE_LIMIT_WINDOW_SECONDS=3600)
    person = new_family_member(world)
    path = f"/families/{world.family}/notes"

    answers = race(lambda i: world.api.post(path, person.token, {"body": f"Note {i}"}))

    created = [answer for answer in answers if answer.status == 201]
    assert len(created) == 10
    for answer in answers:
        if answer.status != 201:
            assert_refused(answer, 3600)
    listed = world.api.get(path, world.token("social_worker"), params={"limit": "100"})
    mine = [n for n in listed.body["items"] if n["createdBy"]["id"] == person.oid]
    assert len(mine) == 10
    notes = refusals_noted(person)
    assert [(n["action"], n["outcome"]) for n in notes] == [("rate-limit", "refused")]
    assert notes[0]["actor"]["oid"] == person.oid


def test_a_family_member_flooding_reads_gets_429_after_the_allowance(
    world: World, stack: Emulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    limited(monkeypatch, RATE_LIMIT_FAMILY_READS=15, RATE_LIMIT_WINDOW_SECONDS=3600)
    person = new_family_member(world)
    path = f"/families/{world.family}/notes"

    answers = race(lambda i: world.api.get(path, person.token))

    assert len([answer for answer in answers if answer.status == 200]) == 15
    for answer in answers:
        if answer.status != 200:
            assert_refused(answer, 3600)
    assert len(refusals_noted(person)) == 1


def test_a_sync_push_costs_one_unit_per_operation(
    world: World, stack: Emulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    limited(monkeypatch, RATE_LIMIT_FAMILY_WRITES=10, RATE_LIMIT_WINDOW_SECONDS=3600)
    person = new_family_member(world)

    def push(count: int) -> Response:
        operations = [
            {
                "opId": uid(),
                "type": "note",
                "action": "create",
                "id": uid(),
                "familyId": world.family,
                "data": {"body": "Queued offline"},
            }
            for _ in range(count)
        ]
        return world.api.post("/sync", person.token, {"operations": operations})

    first = push(8)
    assert first.status == 200, first.body
    assert {result["status"] for result in first.body["results"]} == {"applied"}
    assert_refused(push(3), 3600)


def test_the_largest_push_passes_even_when_it_is_over_the_allowance(
    world: World, stack: Emulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    limited(monkeypatch, RATE_LIMIT_FAMILY_WRITES=5, RATE_LIMIT_WINDOW_SECONDS=3600)
    person = new_family_member(world)
    operations = [
        {"opId": uid(), "type": "note", "action": "create", "id": uid(), "familyId": world.family}
        for _ in range(20)
    ]
    answer = world.api.post("/sync", person.token, {"operations": operations})
    assert answer.status == 200, answer.body
    assert_refused(
        world.api.post(f"/families/{world.family}/notes", person.token, {"body": "x"}), 3600
    )


def test_staff_have_an_allowance_of_their_own(
    world: World, stack: Emulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    limited(
        monkeypatch,
        RATE_LIMIT_FAMILY_WRITES=1,
        RATE_LIMIT_STAFF_WRITES=3,
        RATE_LIMIT_WINDOW_SECONDS=3600,
    )
    manager = world.people["team_manager"]
    path = f"/families/{world.family}/notes"
    answers = [world.api.post(path, manager.token, {"body": f"Note {i}"}) for i in range(4)]
    assert [answer.status for answer in answers] == [201, 201, 201, 429]
