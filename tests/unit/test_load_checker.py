"""The load run's checks catch what they are there for: each fault planted in a sound run."""

from __future__ import annotations

import asyncio
import copy
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench._load_check import (
    Ack,
    DeviceCopy,
    Ledger,
    Sample,
    check,
    latencies,
    percentile,
)
from bench._load_devices import Budget, Device, Person
from bench.load import host_errors

FAMILY = "f-1"
OTHER = "f-2"


def doc(record_id: str, record_type: str, etag: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": record_id,
        "familyId": fields.pop("familyId", FAMILY),
        "type": record_type,
        "_etag": f'"{etag}"',
        "deleted": False,
        "createdBy": {"id": "oid-sw", "name": "sw00", "kind": "staff"},
        **fields,
    }


def change(document: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": document["type"],
        "id": document["id"],
        "familyId": document["familyId"],
        "version": document["_etag"].strip('"'),
        "deleted": False,
        "data": {k: v for k, v in document.items() if not k.startswith("_")},
    }


def sound_run() -> tuple[Ledger, dict[str, dict[str, Any]], list[DeviceCopy], dict[str, str]]:
    """Two families; a shared note, edited once, a professionals note and a comment on each."""
    server = {
        FAMILY: doc(FAMILY, "family", "fam", workerIds=["oid-sw"]),
        OTHER: doc(OTHER, "family", "fam2", familyId=OTHER),
        "n-shared": doc(
            "n-shared",
            "note",
            "v2",
            body="[load:sw00-1] edited",
            visibility="family",
            changeLog=[{"base": "v1", "fields": ["body"]}],
        ),
        "n-private": doc(
            "n-private", "note", "p1", body="[load:sw00-2]", visibility="professionals"
        ),
        "c-shared": doc(
            "c-shared",
            "comment",
            "c1",
            body="[load:sw00-3]",
            targetId="n-shared",
            visibility="family",
        ),
        "c-private": doc(
            "c-private",
            "comment",
            "c2",
            body="[load:sw00-4]",
            targetId="n-private",
            visibility="professionals",
        ),
        "n-other": doc(
            "n-other",
            "note",
            "o1",
            body="[load:sw01-1]",
            familyId=OTHER,
            visibility="family",
            createdBy={"id": "oid-x", "name": "sw01", "kind": "staff"},
        ),
    }
    ledger = Ledger(samples=[Sample("create", 201, 0.01), Sample("pull", 200, 0.02)])
    ledger.acks = [
        Ack("sw00", "create", "note", "n-shared", FAMILY, "v1"),
        Ack("sw00", "update", "note", "n-shared", FAMILY, "v2"),
        Ack("sw00", "create", "note", "n-private", FAMILY, "p1", via="push"),
        Ack("sw00", "create", "comment", "c-shared", FAMILY, "c1"),
        Ack("sw00", "create", "comment", "c-private", FAMILY, "c2"),
        Ack("sw01", "create", "note", "n-other", OTHER, "o1"),
    ]
    staff = DeviceCopy("sw00", "staff", frozenset({FAMILY}))
    staff.apply(change(d) for d in server.values() if d["familyId"] == FAMILY)
    member = DeviceCopy("fm00", "family", frozenset({FAMILY}))
    member.apply(change(server[i]) for i in (FAMILY, "n-shared", "c-shared"))
    del member.holdings[FAMILY]["data"]["workerIds"]
    served = {i: d["_etag"].strip('"') for i, d in server.items()}
    return ledger, server, [staff, member], served


def test_a_sound_run_passes() -> None:
    assert check(*sound_run()) == []


def test_a_5xx_or_an_unanswered_request_fails_the_run() -> None:
    ledger, server, devices, served = sound_run()
    ledger.samples += [
        Sample("push", 500, 0.3, "(fm00: POST /sync: Internal error)"),
        Sample("pull", 0, 120.0),
    ]
    problems = check(ledger, server, devices, served)
    assert problems == ["push: status 500 (fm00: POST /sync: Internal error)", "pull: no answer"]


def test_an_acknowledged_create_missing_from_the_server_is_a_lost_write() -> None:
    ledger, server, devices, served = sound_run()
    ledger.acks.append(Ack("fm00", "create", "note", "n-lost", FAMILY, "l1", via="push"))
    assert check(ledger, server, devices, served) == [
        "lost write: note n-lost (create) is not held"
    ]


def test_an_acknowledged_update_overwritten_out_of_history_is_a_lost_write() -> None:
    ledger, server, devices, served = sound_run()
    ledger.acks.append(Ack("sw01", "update", "note", "n-shared", FAMILY, "v-forked"))
    problems = check(ledger, server, devices, served)
    assert problems == [
        "lost write: note n-shared version v-forked (update by sw01) is not in its history"
    ]


def test_an_acknowledged_agenda_item_missing_from_its_agenda_is_a_lost_write() -> None:
    ledger, server, devices, served = sound_run()
    server["a-1"] = doc(
        "a-1",
        "agenda",
        "a2",
        title="[load:sw00-9]",
        visibility="professionals",
        items=[{"id": "i-1", "text": "School"}],
    )
    devices[0].apply([change(server["a-1"])])
    served["a-1"] = "a2"
    ledger.acks += [
        Ack("sw00", "create", "agenda", "a-1", FAMILY, "a2"),
        Ack("sw00", "item", "agenda", "i-2", FAMILY, parent="a-1"),
    ]
    assert check(ledger, server, devices, served) == ["lost write: item i-2 is not on agenda a-1"]


def test_a_record_deleted_without_an_acknowledged_delete_is_a_lost_write() -> None:
    ledger, server, devices, served = sound_run()
    server["n-private"]["deleted"] = True
    del served["n-private"]
    del devices[0].holdings["n-private"]
    problems = check(ledger, server, devices, served)
    assert (
        "lost write: note n-private deleted by nobody (create by sw00 acknowledged p1)" in problems
    )


def test_a_write_the_api_does_not_serve_back_is_reported() -> None:
    ledger, server, devices, served = sound_run()
    del served["n-private"]
    assert check(ledger, server, devices, served) == [
        "read back: note n-private served as None, held as p1"
    ]


def test_a_device_missing_a_record_it_may_see_or_holding_a_stale_one_fails() -> None:
    ledger, server, devices, served = sound_run()
    member = devices[1]
    del member.holdings["c-shared"]
    member.holdings["n-shared"]["version"] = "v1"
    assert check(ledger, server, devices, served) == [
        "fm00 holds a stale note n-shared (v1, held as v2)",
        "missing: fm00 lacks comment c-shared (c1)",
    ]


def test_a_device_still_holding_a_deleted_record_fails() -> None:
    ledger, server, devices, served = sound_run()
    server["c-shared"]["deleted"] = True
    ledger.acks.append(Ack("sw00", "delete", "comment", "c-shared", FAMILY))
    del served["c-shared"]
    del devices[0].holdings["c-shared"]
    assert check(ledger, server, devices, served) == ["fm00 still holds deleted comment c-shared"]


def test_a_family_device_holding_a_professionals_record_is_a_leak() -> None:
    ledger, server, devices, served = sound_run()
    devices[1].apply([change(server["n-private"]), change(server["c-private"])])
    assert check(ledger, server, devices, served) == [
        "leak: fm00 holds note n-private (professionals in f-1)",
        "leak: fm00 holds comment c-private (professionals in f-1)",
    ]


def test_a_device_holding_another_familys_record_is_a_leak() -> None:
    ledger, server, devices, served = sound_run()
    devices[0].apply([change(server["n-other"])])
    assert check(ledger, server, devices, served) == [
        "leak: sw00 holds note n-other (family in f-2)"
    ]


def test_a_shared_comment_on_an_unshared_note_is_a_leak() -> None:
    ledger, server, devices, served = sound_run()
    server["n-shared"]["visibility"] = "professionals"
    del devices[1].holdings["n-shared"]
    assert check(ledger, server, devices, served) == [
        "leak: comment c-shared is 'family' on a 'professionals' note"
    ]


def test_a_record_created_twice_is_a_duplicate() -> None:
    ledger, server, devices, served = sound_run()
    twin = copy.deepcopy(server["n-private"])
    twin["id"], twin["_etag"] = "n-twin", '"t1"'
    server["n-twin"] = twin
    devices[0].apply([change(twin)])
    served["n-twin"] = "t1"
    ledger.acks.append(Ack("sw00", "create", "note", "n-private", FAMILY, "p1", via="push"))
    assert check(ledger, server, devices, served) == [
        "duplicate: create of n-private acknowledged 2 times",
        "duplicate: [load:sw00-2] is on 2 records (n-private, n-twin)",
        "unacknowledged write: note n-twin by sw00 is held",
    ]


def test_an_agenda_item_applied_twice_is_a_duplicate() -> None:
    ledger, server, devices, served = sound_run()
    item = {"id": "i-1", "text": "[load:fm00-7] Something"}
    server["a-1"] = doc(
        "a-1",
        "agenda",
        "a1",
        title="[load:sw00-8]",
        visibility="family",
        items=[item, {**item, "id": "i-9"}],
    )
    ledger.acks.append(Ack("sw00", "create", "agenda", "a-1", FAMILY, "a1"))
    for device in devices:
        device.apply([change(server["a-1"])])
    served["a-1"] = "a1"
    assert check(ledger, server, devices, served) == [
        "duplicate: agenda item [load:fm00-7] held 2 times (a-1/i-1, a-1/i-9)"
    ]


def test_a_family_device_holding_staff_only_fields_is_a_leak() -> None:
    ledger, server, devices, served = sound_run()
    devices[1].apply([change(server[FAMILY])])
    assert check(ledger, server, devices, served) == [
        "leak: fm00 holds family f-1 with staff-only fields"
    ]


def test_problems_seen_during_the_run_are_reported() -> None:
    ledger, server, devices, served = sound_run()
    ledger.problem("leak: fm00 was sent n-private unshared")
    assert check(ledger, server, devices, served) == ["leak: fm00 was sent n-private unshared"]


def test_latencies_are_nearest_rank_percentiles_per_operation_and_overall() -> None:
    samples = [Sample("pull", 200, s / 100) for s in range(1, 101)]
    samples += [Sample("push", 200, 2.0), Sample("push", 0, 9.0)]
    rows = {row.operation: row for row in latencies(samples)}
    assert list(rows) == ["pull", "push", "all"]
    assert (rows["pull"].p50, rows["pull"].p95, rows["pull"].p99) == (0.5, 0.95, 0.99)
    assert rows["push"].count == 1
    assert rows["all"].count == 101
    assert percentile([], 0.5) == 0.0


def member_device(answer: Callable[[httpx.Request], httpx.Response]) -> Device:
    """A family member's device whose requests ``answer`` serves."""
    person = Person("fm00", "family", "oid-fm", "token", frozenset({FAMILY}))
    client = httpx.AsyncClient(
        base_url="http://load.test/api/v1", transport=httpx.MockTransport(answer)
    )
    return Device(person, client, Ledger(), Budget(), random.Random(0))


def replay(device: Device) -> None:
    async def once() -> None:
        async with device.client:
            await device.replay()

    asyncio.run(once())


def test_a_replayed_create_answered_with_a_record_the_family_may_not_see_is_a_leak() -> None:
    stored = {
        "id": "n-1",
        "type": "note",
        "familyId": FAMILY,
        "version": "v3",
        "body": "Edited by staff",
        "visibility": "professionals",
    }
    device = member_device(lambda request: httpx.Response(200, json=stored))
    device.posted.append((f"/families/{FAMILY}/notes", {"id": "n-1", "body": "[load:fm00-1]"}))
    replay(device)
    assert device.ledger.problems == [
        "leak: fm00 was sent note n-1 version v3 marked professionals "
        "(replay POST /families/f-1/notes)"
    ]


def test_a_replayed_create_of_a_record_since_hidden_may_be_refused() -> None:
    device = member_device(lambda request: httpx.Response(404, json={"status": 404}))
    device.posted.append((f"/families/{FAMILY}/notes", {"id": "n-1", "body": "[load:fm00-1]"}))
    replay(device)
    assert device.ledger.problems == []
    assert device.ledger.replays == 1


def test_every_function_that_failed_on_the_host_is_reported_with_its_exception(
    tmp_path: Path,
) -> None:
    """From the log of every host process the run started."""
    (tmp_path / "host-0.log").write_text(
        "12:00:01,000 ERROR   familystory.http: unhandled error in sync_pull\n"
        "Traceback (most recent call last):\n"
        '  File "shared/records/store.py", line 189, in query_all\n'
        "RuntimeError: OrderedDict mutated during iteration\n"
        "12:00:02,000 INFO    familystory.host: GET /api/v1/sync -> sync_pull 200 (3.0 ms)\n"
    )
    (tmp_path / "host-1.log").write_text(
        "12:00:03,000 ERROR   familystory.host: function notes_list raised (invocation 7)\n"
        "Traceback (most recent call last):\n"
        "KeyError: 'items'\n"
    )
    assert host_errors(tmp_path) == [
        "host: 12:00:01,000 ERROR   familystory.http: unhandled error in sync_pull: "
        "RuntimeError: OrderedDict mutated during iteration",
        "host: 12:00:03,000 ERROR   familystory.host: function notes_list raised (invocation 7): "
        "KeyError: 'items'",
    ]
