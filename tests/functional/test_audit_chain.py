"""The audit trail is a hash chain per family: racing writers cannot fork it, and tampering with
an event in Cosmos DB directly is reported by the verifier (command and endpoint)."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest

from local import audit as audit_command
from local.emulators import Emulators
from shared.access import Caller
from shared.audit import AuditLog
from shared.audit_chain import GENESIS, Head, event_hash, verify_chain
from shared.bootstrap import get_runtime
from shared.identity import Principal
from shared.storage_layout import AUDIT
from tests.functional.world import World, uid


def audit_container() -> Any:
    return get_runtime().database.get_container_client(AUDIT.name)


def chain(family_id: str) -> list[dict[str, Any]]:
    return list(
        audit_container().query_items(
            "SELECT * FROM c WHERE c.familyId = @f ORDER BY c.seq ASC",
            parameters=[{"name": "@f", "value": family_id}],
            partition_key=family_id,
        )
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


def a_caller() -> Caller:
    principal = Principal(
        kind="staff",
        tenant_id="t",
        object_id=uid(),
        name="Writer",
        roles=frozenset({"SocialWorker"}),
    )
    return Caller(principal)


def test_events_of_a_family_form_one_chain(world: World, stack: Emulators) -> None:
    family_id = new_family(world)
    events = chain(family_id)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["prev"] == GENESIS
    for earlier, later in itertools.pairwise(events):
        assert later["prev"] == earlier["hash"]
    assert all(e["hash"] == event_hash(e) for e in events)
    report = verify_chain(get_runtime().audit_store, family_id)
    assert report.ok, report.problems
    assert report.head == Head(events[-1]["seq"], events[-1]["hash"])


def test_racing_writers_on_two_instances_never_fork_the_chain(
    world: World, stack: Emulators
) -> None:
    family_id = uid()
    runtime = get_runtime()
    instances = [AuditLog(runtime.audit_store, runtime.clock) for _ in range(2)]
    barrier = threading.Barrier(8)

    def write(log: AuditLog) -> None:
        barrier.wait()
        for _ in range(5):
            log.record(a_caller(), "read", family_id, "note", None)

    threads = [threading.Thread(target=write, args=(instances[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    events = chain(family_id)
    assert [e["seq"] for e in events] == list(range(1, 41))
    report = verify_chain(get_runtime().audit_store, family_id)
    assert report.ok, report.problems
    assert report.events == 40


def test_an_event_changed_in_cosmos_is_reported_by_the_verifier_command(
    world: World, stack: Emulators, capsys: pytest.CaptureFixture[str]
) -> None:
    family_id = new_family(world)
    assert audit_command.main(["verify", "--family", family_id]) == 0
    assert "intact" in capsys.readouterr().out

    events = chain(family_id)
    victim = events[2]
    altered = {k: v for k, v in victim.items() if not k.startswith("_")}
    altered["action"] = "list"
    audit_container().replace_item(victim["id"], altered)

    assert audit_command.main(["verify", "--family", family_id]) == 1
    out = capsys.readouterr().out
    assert f"BREAK: event {victim['seq']} was changed after it was written" in out


def test_a_changed_event_with_a_recomputed_hash_breaks_the_next_link(
    world: World, stack: Emulators
) -> None:
    family_id = new_family(world)
    victim = chain(family_id)[1]
    altered = {k: v for k, v in victim.items() if not k.startswith("_")}
    altered["actor"] = {**altered["actor"], "oid": uid()}
    altered["hash"] = event_hash(altered)
    audit_container().replace_item(victim["id"], altered)
    report = verify_chain(get_runtime().audit_store, family_id)
    assert report.problems == [
        f"event {victim['seq'] + 1} does not follow event {victim['seq']}: its prev hash differs"
    ]


def test_removed_and_planted_events_are_reported(world: World, stack: Emulators) -> None:
    family_id = new_family(world)
    events = chain(family_id)
    audit_container().delete_item(events[3]["id"], partition_key=family_id)
    audit_container().create_item(
        {"id": uid(), "familyId": family_id, "type": "audit", "action": "read"}
    )
    report = verify_chain(get_runtime().audit_store, family_id)
    assert f"events {events[3]['seq']} are missing" in report.problems
    assert any("outside the chain" in problem for problem in report.problems)


def test_events_cut_from_the_end_are_found_against_a_recorded_head(
    world: World, stack: Emulators, capsys: pytest.CaptureFixture[str]
) -> None:
    family_id = new_family(world)
    events = chain(family_id)
    anchor = f"{events[-1]['seq']}:{events[-1]['hash']}"
    audit_container().delete_item(events[-1]["id"], partition_key=family_id)
    assert verify_chain(get_runtime().audit_store, family_id).ok
    assert audit_command.main(["verify", "--family", family_id, "--head", anchor]) == 1
    assert "was recorded" in capsys.readouterr().out


def test_managers_verify_the_trail_over_http_and_others_may_not(
    world: World, stack: Emulators
) -> None:
    path = f"/families/{world.family}/audit/verify"
    checked = world.api.get(path, world.token("team_manager"))
    assert checked.status == 200, checked.body
    assert checked.body["ok"] is True
    assert checked.body["events"] == checked.body["head"]["seq"]
    assert world.api.get(path, world.token("head_of_service")).status == 200
    assert world.api.get(path, world.token("social_worker")).status == 403
    assert world.api.get(path, world.token("family_member")).status == 403
    assert world.api.get(path, world.token("other_team_manager")).status == 404
    assert world.api.get(path, world.token("admin")).status == 404


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
    assert [(e["action"], e["outcome"]) for e in chain(family_id)] == [("create", "ok")]
    assert get_runtime().records.read(family_id, family_id) is None

    made = world.api.post("/families", world.token("social_worker"), body)  # the retry
    assert made.status == 201, made.body
    with monkeypatch.context() as outage:
        outage.setattr(CosmosRecords, "replace", down)
        changed = world.api.patch(
            f"/families/{family_id}", world.token("social_worker"), {"displayName": "Renamed"}
        )
        assert changed.status == 503
    assert [e["action"] for e in chain(family_id)][-1] == "update"
    stored = get_runtime().records.read(family_id, family_id)
    assert stored is not None
    assert stored["displayName"] == "Cut"
    assert verify_chain(get_runtime().audit_store, family_id).ok
