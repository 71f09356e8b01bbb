"""The audit trail on the real stores: events written with one request each, by any number of
writers at once, sealed afterwards into one chain per family and anchored in Blob Storage; and
tampering in Cosmos DB directly reported by the verifier (command and endpoint)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest

from functions import records_duty
from local import audit as audit_command
from local.emulators import Emulators
from shared.audit_chain import Head, event_hash, seal_mac, seal_order, verify_chain
from shared.bootstrap import get_runtime
from shared.storage_layout import AUDIT
from tests.functional.sealing import next_second, seal_now
from tests.functional.world import World, uid

ROOT = Path(__file__).resolve().parents[2]


def audit_container() -> Any:
    return get_runtime().database.get_container_client(AUDIT.name)


def documents(family_id: str, kind: str) -> list[dict[str, Any]]:
    return list(
        audit_container().query_items(
            "SELECT * FROM c WHERE c.familyId = @f AND c.type = @t",
            parameters=[{"name": "@f", "value": family_id}, {"name": "@t", "value": kind}],
            partition_key=family_id,
        )
    )


def events(family_id: str) -> list[dict[str, Any]]:
    """The family's events in the order the sealer seals them."""
    return sorted(documents(family_id, "audit"), key=seal_order)


def seals(family_id: str) -> list[dict[str, Any]]:
    return sorted(documents(family_id, "auditSeal"), key=lambda s: int(s["seal"]))


def verify(family_id: str, expect: Head | None = None) -> Any:
    runtime = get_runtime()
    return verify_chain(
        runtime.audit_store, runtime.audit_anchors, runtime.audit_key, family_id, expect
    )


def rewrite(document: dict[str, Any]) -> None:
    audit_container().replace_item(
        document["id"], {k: v for k, v in document.items() if not k.startswith("_")}
    )


def new_family(world: World) -> str:
    made = world.api.post(
        "/families", world.token("social_worker"), {"displayName": "Chain", "teamId": world.team_a}
    )
    assert made.status == 201, made.body
    family_id = str(made.body["id"])
    for body in ("One", "Two", "Three"):
        note = world.api.post(
            f"/families/{family_id}/notes", world.token("social_worker"), {"body": body}
        )
        assert (
            world.api.get(
                f"/families/{family_id}/notes/{note.body['id']}", world.token("team_manager")
            ).status
            == 200
        )
    return family_id


def sealed_family(world: World) -> str:
    family_id = new_family(world)
    assert seal_now(family_id) == len(events(family_id))
    return family_id


def test_events_of_a_family_are_sealed_into_one_chain_and_anchored(
    world: World, stack: Emulators
) -> None:
    family_id = new_family(world)
    written = events(family_id)
    assert seals(family_id) == []
    assert verify(family_id).pending == len(written)

    assert seal_now(family_id) == len(written)
    world.api.get(f"/families/{family_id}", world.token("team_manager"))
    assert seal_now(family_id) == 1

    (first, second) = seals(family_id)
    assert (first["first"], first["last"]) == (1, len(written))
    assert (second["first"], second["last"]) == (len(written) + 1, len(written) + 1)
    assert second["prev"] == first["mac"]
    key = get_runtime().audit_key
    assert first["mac"] == seal_mac(key, first)
    assert second["mac"] == seal_mac(key, second)
    assert first["events"] == [[e["id"], event_hash(e)] for e in written]
    report = verify(family_id)
    assert report.ok, report.problems
    assert (report.events, report.seals, report.pending) == (len(written) + 1, 2, 0)
    assert report.head == Head(len(written) + 1, second["mac"])
    assert report.anchored == 2
    month = get_runtime().audit_anchors.months(family_id)[-1]
    anchored = get_runtime().audit_anchors.lines(family_id, month)
    assert [(line["seal"], line["mac"]) for line in anchored] == [
        (1, first["mac"]),
        (2, second["mac"]),
    ]


def test_two_writer_processes_on_one_family_never_conflict_or_lose_an_event(
    stack: Emulators,
) -> None:
    """Two processes, four threads each, all writing to one family at once: every create
    succeeds the first time, every event is stored, and the sealed chain verifies."""
    family_id = uid()
    command = [sys.executable, "-m", "tests.functional.audit_writer", family_id, "25", "4"]
    writers = [
        subprocess.Popen(
            command,
            cwd=ROOT,
            env=dict(os.environ),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [writer.communicate("go\n", timeout=120) for writer in writers]
    assert [writer.returncode for writer in writers] == [0, 0], [err for _, err in outputs]
    results = [json.loads(out) for out, _ in outputs]
    assert [r["conflicts"] for r in results] == [0, 0]
    assert results[0]["writer"] != results[1]["writer"]
    written = {event_id for r in results for event_id in r["ids"]}
    assert len(written) == 200
    assert {e["id"] for e in events(family_id)} == written

    assert seal_now(family_id) == 200
    report = verify(family_id)
    assert report.ok, report.problems
    assert (report.events, report.pending) == (200, 0)


def test_events_not_sealed_yet_are_pending_in_the_verifier_not_breaks(
    world: World, stack: Emulators
) -> None:
    family_id = sealed_family(world)
    world.api.get(f"/families/{family_id}", world.token("team_manager"))
    report = verify(family_id)
    assert report.ok
    assert report.pending == 1
    assert report.pending_ids == [events(family_id)[-1]["id"]]


def test_an_event_changed_in_cosmos_is_reported_by_the_verifier_command(
    world: World, stack: Emulators, capsys: pytest.CaptureFixture[str]
) -> None:
    family_id = sealed_family(world)
    assert audit_command.main(["verify", "--family", family_id]) == 0
    assert "intact" in capsys.readouterr().out

    victim = events(family_id)[2]
    rewrite({**victim, "action": "list"})

    assert audit_command.main(["verify", "--family", family_id]) == 1
    assert "BREAK: event 3 was changed after it was sealed" in capsys.readouterr().out


def test_a_changed_event_whose_hash_is_rewritten_in_its_seal_breaks_the_seal(
    world: World, stack: Emulators
) -> None:
    """Without the key, a seal changed to match a changed event no longer matches its MAC."""
    family_id = sealed_family(world)
    victim = events(family_id)[1]
    altered = {**victim, "actor": {**victim["actor"], "oid": uid()}}
    rewrite(altered)
    (seal,) = seals(family_id)
    listed = [
        [entry[0], event_hash(altered)] if entry[0] == victim["id"] else entry
        for entry in seal["events"]
    ]
    rewrite({**seal, "events": listed})
    problems = verify(family_id).problems
    assert "seal 1 was changed after it was made" in problems
    assert "event 2 was changed after it was sealed" in problems


def test_removed_reordered_and_planted_documents_are_reported(
    world: World, stack: Emulators
) -> None:
    family_id = sealed_family(world)
    written = events(family_id)
    audit_container().delete_item(written[3]["id"], partition_key=family_id)
    (seal,) = seals(family_id)
    swapped = [seal["events"][1], seal["events"][0], *seal["events"][2:]]
    rewrite({**seal, "events": swapped})
    audit_container().create_item({"id": uid(), "familyId": family_id, "type": "note"})
    problems = verify(family_id).problems
    assert "event 4 is missing" in problems
    assert "seal 1 was changed after it was made" in problems
    assert any("is neither an event nor a seal" in problem for problem in problems)


def test_seals_cut_from_the_end_are_found_by_their_anchor_and_a_recorded_head(
    world: World, stack: Emulators, capsys: pytest.CaptureFixture[str]
) -> None:
    family_id = sealed_family(world)
    world.api.get(f"/families/{family_id}", world.token("team_manager"))
    seal_now(family_id)
    head = verify(family_id).head
    assert head is not None
    last = seals(family_id)[-1]
    for listed_id, _ in last["events"]:
        audit_container().delete_item(listed_id, partition_key=family_id)
    audit_container().delete_item(last["id"], partition_key=family_id)

    assert audit_command.main(["verify", "--family", family_id]) == 1
    assert "seals 2 are anchored but missing" in capsys.readouterr().out
    anchor = f"{head.seq}:{head.hash}"
    assert audit_command.main(["verify", "--family", family_id, "--head", anchor]) == 1
    assert "was recorded" in capsys.readouterr().out


def test_managers_verify_the_trail_over_http_and_others_may_not(
    world: World, stack: Emulators
) -> None:
    seal_now(world.family)
    path = f"/families/{world.family}/audit/verify"
    checked = world.api.get(path, world.token("team_manager"))
    assert checked.status == 200, checked.body
    assert checked.body["ok"] is True
    assert checked.body["events"] == checked.body["head"]["seq"]
    assert checked.body["pending"]["count"] == 0
    again = world.api.get(path, world.token("team_manager")).body
    assert again["pending"]["count"] == 1  # the first check's own event, not sealed yet
    assert again["head"] == checked.body["head"]
    assert world.api.get(path, world.token("head_of_service")).status == 200
    assert world.api.get(path, world.token("social_worker")).status == 403
    assert world.api.get(path, world.token("family_member")).status == 403
    assert world.api.get(path, world.token("other_team_manager")).status == 404
    assert world.api.get(path, world.token("admin")).status == 404


def test_the_sealing_timer_seals_every_family_with_new_events(
    world: World, stack: Emulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared import audit_seal

    monkeypatch.setattr(audit_seal, "SETTLE_SECONDS", 1)
    store = get_runtime().audit_store
    cursor = store.sealer_cursor()
    start = int(time.time()) - 1  # a run looks only at families written since the cursor
    store.move_sealer_cursor(start, cursor["_etag"] if cursor else None)
    family_id = new_family(world)
    next_second()
    timer = func.timer.TimerRequest(past_due=False)
    records_duty.audit_seal.build().get_user_function()(timer)
    report = verify(family_id)
    assert report.ok, report.problems
    assert (report.events, report.pending) == (len(events(family_id)), 0)


def test_a_family_write_cut_by_an_outage_leaves_its_audit_event_not_an_unaudited_change(
    world: World, stack: Emulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The event goes first: the failed create and update are audited, and nothing changed."""
    from azure.core.exceptions import ServiceRequestError

    from shared.adapters.cosmos_records import CosmosRecords

    def down(*args: object, **kwargs: object) -> None:
        raise ServiceRequestError("Cosmos DB unreachable")

    family_id = uid()
    body = {"id": family_id, "displayName": "Cut", "teamId": world.team_a}
    with monkeypatch.context() as outage:
        outage.setattr(CosmosRecords, "create", down)
        assert world.api.post("/families", world.token("social_worker"), body).status == 503
    assert [(e["action"], e["outcome"]) for e in events(family_id)] == [("create", "ok")]
    assert get_runtime().records.read(family_id, family_id) is None

    made = world.api.post("/families", world.token("social_worker"), body)  # the retry
    assert made.status == 201, made.body
    with monkeypatch.context() as outage:
        outage.setattr(CosmosRecords, "replace", down)
        changed = world.api.patch(
            f"/families/{family_id}", world.token("social_worker"), {"displayName": "Renamed"}
        )
        assert changed.status == 503
    assert [e["action"] for e in events(family_id)][-1] == "update"
    stored = get_runtime().records.read(family_id, family_id)
    assert stored is not None
    assert stored["displayName"] == "Cut"
    seal_now(family_id)
    assert verify(family_id).ok
