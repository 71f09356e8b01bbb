"""Audit events are written with one request each, and the sealer chains them afterwards: what
the verifier finds when sealed events or seals are changed, removed, added or reordered, and what
it lists as pending (on the in-memory stores, at a frozen clock)."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.access import Caller
from shared.audit import AuditLog
from shared.audit_chain import Head, event_hash, seal_mac, verify_chain
from shared.audit_seal import Sealer, load_seal_key
from shared.errors import DependencyUnavailableError
from shared.identity import Principal
from shared.ports.audit import SealKey
from shared.ports.errors import AlreadyExistsError
from shared.settings import get_settings
from tests.fakes import FakeRuntime

FAMILY = "family-1"


def a_caller(oid: str = "worker") -> Caller:
    principal = Principal(
        kind="staff", tenant_id="t", object_id=oid, name="Writer", roles=frozenset({"SocialWorker"})
    )
    return Caller(principal)


class CountingStore:
    """The fake store, counting the calls the request path makes."""

    def __init__(self, runtime: FakeRuntime) -> None:
        self.inner = runtime.audit_store
        self.calls: list[str] = []

    def append(self, event: dict[str, Any]) -> dict[str, Any]:
        self.calls.append("append")
        return self.inner.append(event)

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        return getattr(self.inner, name)


def sealer(runtime: FakeRuntime, **options: Any) -> Sealer:
    return Sealer(
        runtime.audit_store, runtime.audit_anchors, runtime.audit_key, runtime.clock, **options
    )


def write(runtime: FakeRuntime, count: int, family_id: str = FAMILY) -> None:
    for index in range(count):
        runtime.audit.record(a_caller(), "read", family_id, "note", f"note-{index}")


def settle(runtime: FakeRuntime) -> None:
    runtime.clock.advance(timedelta(seconds=30))


def verify(runtime: FakeRuntime, expect: Head | None = None) -> Any:
    return verify_chain(
        runtime.audit_store, runtime.audit_anchors, runtime.audit_key, FAMILY, expect
    )


def sealed(runtime: FakeRuntime, count: int) -> list[dict[str, Any]]:
    """``count`` events written and sealed; the seals."""
    write(runtime, count)
    settle(runtime)
    sealer(runtime).run()
    return list(runtime.audit_store.seals(FAMILY))


def rewrite(runtime: FakeRuntime, document: dict[str, Any]) -> None:
    """Change a stored document as someone with write access to the database could."""
    runtime.audit_store.documents.replace(FAMILY, document, None)


# --- the request path -------------------------------------------------------------------------


def test_recording_an_event_is_one_append_and_nothing_else() -> None:
    runtime = FakeRuntime()
    store = CountingStore(runtime)
    log = AuditLog(store, runtime.clock)
    for _ in range(5):
        log.record(a_caller(), "read", FAMILY, "note", "n1")
    assert store.calls == ["append"] * 5


def test_two_writers_racing_on_one_family_never_collide() -> None:
    runtime = FakeRuntime()
    logs = [AuditLog(runtime.audit_store, runtime.clock) for _ in range(2)]
    barrier = threading.Barrier(8)
    failures: list[BaseException] = []

    def run(log: AuditLog) -> None:
        barrier.wait()
        for _ in range(25):
            try:
                log.record(a_caller(), "read", FAMILY, "note", None)
            except AlreadyExistsError as error:  # pragma: no cover - the failure being tested
                failures.append(error)

    threads = [threading.Thread(target=run, args=(logs[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(runtime.audit_store.events(FAMILY)) == 200
    assert logs[0].writer != logs[1].writer


def test_a_create_retried_after_it_landed_returns_the_stored_event() -> None:
    runtime = FakeRuntime()

    class LandedTwice(CountingStore):
        def append(self, event: dict[str, Any]) -> dict[str, Any]:
            self.inner.append(event)
            raise AlreadyExistsError()

    log = AuditLog(LandedTwice(runtime), runtime.clock)
    event = log.record(a_caller(), "read", FAMILY, "note", "n1")
    assert runtime.audit_store.events(FAMILY)[0]["id"] == event["id"]


# --- sealing ----------------------------------------------------------------------------------


def test_sealed_events_form_one_chain_of_seals_that_verifies() -> None:
    runtime = FakeRuntime()
    write(runtime, 3)
    settle(runtime)
    write(runtime, 2)
    settle(runtime)
    first = sealer(runtime).run()
    write(runtime, 4)
    settle(runtime)
    second = sealer(runtime).run()

    seals = list(runtime.audit_store.seals(FAMILY))
    assert (first.events, second.events) == (5, 4)
    assert [(s["seal"], s["first"], s["last"]) for s in seals] == [(1, 1, 5), (2, 6, 9)]
    assert seals[1]["prev"] == seals[0]["mac"]
    assert all(s["mac"] == seal_mac(runtime.audit_key, s) for s in seals)
    written = runtime.audit_store.events(FAMILY)
    listed = [entry for s in seals for entry in s["events"]]
    assert listed == [[e["id"], event_hash(e)] for e in written]
    report = verify(runtime)
    assert report.ok, report.problems
    assert (report.events, report.seals, report.pending) == (9, 2, 0)
    assert report.head == Head(9, seals[1]["mac"])
    assert report.anchored == 2


def test_events_not_sealed_yet_are_listed_as_pending_not_as_breaks() -> None:
    runtime = FakeRuntime()
    sealed(runtime, 3)
    write(runtime, 2)
    report = verify(runtime)
    assert report.ok
    assert report.pending == 2
    assert report.pending_ids == [e["id"] for e in runtime.audit_store.events(FAMILY)[3:]]
    assert report.pending_since is not None


def test_events_of_the_last_seconds_wait_for_the_next_run() -> None:
    runtime = FakeRuntime()
    write(runtime, 2)
    assert sealer(runtime).run().events == 0
    settle(runtime)
    assert sealer(runtime).run().events == 2


def test_a_long_stretch_is_sealed_in_several_seals_each_ending_at_a_whole_second() -> None:
    runtime = FakeRuntime()
    for _ in range(5):
        write(runtime, 3)
        runtime.clock.advance(timedelta(seconds=1))
    settle(runtime)
    sealer(runtime, seal_events=4).run()
    seals = list(runtime.audit_store.seals(FAMILY))
    assert [len(s["events"]) for s in seals] == [3, 3, 3, 3, 3]
    assert verify(runtime).ok


def test_two_sealers_racing_write_each_seal_once() -> None:
    runtime = FakeRuntime()
    write(runtime, 6)
    settle(runtime)
    barrier = threading.Barrier(2)
    runs: list[Any] = []

    def run() -> None:
        barrier.wait()
        runs.append(sealer(runtime).run())

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [s["seal"] for s in runtime.audit_store.seals(FAMILY)] == [1]
    assert sum(r.events for r in runs) == 6
    assert verify(runtime).ok


def test_a_run_looks_only_at_families_written_since_the_last_complete_run() -> None:
    runtime = FakeRuntime()
    write(runtime, 2, "family-a")
    settle(runtime)
    assert sealer(runtime).run().families == 1
    write(runtime, 2, "family-b")
    settle(runtime)
    later = sealer(runtime).run()
    assert (later.families, later.sealed) == (1, {"family-b": 2})


# --- what the verifier finds ------------------------------------------------------------------


def test_an_event_changed_after_it_was_sealed_is_reported() -> None:
    runtime = FakeRuntime()
    sealed(runtime, 4)
    victim = runtime.audit_store.events(FAMILY)[2]
    rewrite(runtime, {**victim, "action": "list"})
    assert verify(runtime).problems == ["event 3 was changed after it was sealed"]


def test_a_removed_event_is_reported() -> None:
    runtime = FakeRuntime()
    sealed(runtime, 4)
    victim = runtime.audit_store.events(FAMILY)[1]
    runtime.audit_store.delete(FAMILY, victim["id"])
    assert verify(runtime).problems == ["event 2 is missing"]


def test_reordered_events_are_reported() -> None:
    """Two events swapped in their seal's list (the seal no longer matches its MAC), or two
    events' contents swapped under their ids (each no longer matches its hash)."""
    runtime = FakeRuntime()
    (seal,) = sealed(runtime, 4)
    events = seal["events"]
    rewrite(runtime, {**seal, "events": [events[1], events[0], *events[2:]]})
    assert verify(runtime).problems == ["seal 1 was changed after it was made"]

    runtime = FakeRuntime()
    sealed(runtime, 4)
    one, two = runtime.audit_store.events(FAMILY)[:2]
    fields = ("recordId", "wseq", "at")
    rewrite(runtime, {**one, **{f: two[f] for f in fields}})
    rewrite(runtime, {**two, **{f: one[f] for f in fields}})
    assert verify(runtime).problems == [
        "event 1 was changed after it was sealed",
        "event 2 was changed after it was sealed",
    ]


def test_a_seal_rewritten_without_the_key_is_reported() -> None:
    """Someone with the database but not the key changes an event and its hash in the seal."""
    runtime = FakeRuntime()
    (seal,) = sealed(runtime, 3)
    victim = runtime.audit_store.events(FAMILY)[0]
    altered = {**victim, "actor": {**victim["actor"], "oid": "someone-else"}}
    rewrite(runtime, altered)
    listed = [[altered["id"], event_hash(altered)], *seal["events"][1:]]
    forged = {**seal, "events": listed}
    forged["mac"] = seal_mac(SealKey(b"a key guessed by whoever has the database"), forged)
    rewrite(runtime, forged)
    assert verify(runtime).problems == [
        "seal 1 was changed after it was made",
        "event 1 was changed after it was sealed",  # a rewrite moves its _ts out of the seal
        "seal 1 differs from its anchor",
    ]


def test_an_event_added_to_a_sealed_stretch_is_reported() -> None:
    runtime = FakeRuntime()
    (seal,) = sealed(runtime, 2)
    planted = {"id": "planted", "familyId": FAMILY, "type": "audit", "action": "read"}
    runtime.audit_store.documents.put_raw(FAMILY, {**planted, "_ts": seal["through"]})
    runtime.audit_store.documents.put_raw(FAMILY, {"id": "odd", "familyId": FAMILY})
    assert verify(runtime).problems == [
        "event planted was added to a sealed stretch (seal 1)",
        "document odd is neither an event nor a seal",
    ]


def test_a_seal_removed_from_the_middle_is_reported() -> None:
    runtime = FakeRuntime()
    for _ in range(3):
        sealed(runtime, 2)
    middle = list(runtime.audit_store.seals(FAMILY))[1]
    runtime.audit_store.delete(FAMILY, middle["id"])
    problems = verify(runtime).problems
    assert "seals 2 are missing" in problems


def test_seals_cut_from_the_end_are_found_by_their_anchor() -> None:
    runtime = FakeRuntime()
    for _ in range(3):
        sealed(runtime, 2)
    head = verify(runtime).head
    last = list(runtime.audit_store.seals(FAMILY))[-1]
    for listed_id, _ in last["events"]:
        runtime.audit_store.delete(FAMILY, listed_id)
    runtime.audit_store.delete(FAMILY, last["id"])
    report = verify(runtime)
    assert report.problems == ["seals 3 are anchored but missing: the chain was cut short"]
    assert verify(runtime, head).problems == [
        "the chain ends at event 4 but event 6 was recorded",
        "seals 3 are anchored but missing: the chain was cut short",
    ]


def test_a_chain_rebuilt_with_the_key_differs_from_its_anchor() -> None:
    """Even someone holding the key cannot rewrite what an anchor covers."""
    runtime = FakeRuntime()
    (seal,) = sealed(runtime, 2)
    victim = runtime.audit_store.events(FAMILY)[0]
    altered = {**victim, "action": "nothing-to-see"}
    rewrite(runtime, altered)
    moved = runtime.audit_store.event(FAMILY, altered["id"]) or {}
    listed = [seal["events"][1], [altered["id"], event_hash(altered)]]
    rebuilt = {**seal, "events": listed, "through": moved["_ts"]}
    rebuilt["mac"] = seal_mac(runtime.audit_key, rebuilt)
    rewrite(runtime, rebuilt)
    assert verify(runtime).problems == ["seal 1 differs from its anchor"]


def test_a_recorded_head_must_still_be_in_the_chain() -> None:
    runtime = FakeRuntime()
    sealed(runtime, 2)
    head = verify(runtime).head
    assert head is not None
    assert verify(runtime, head).ok
    assert verify(runtime, Head(head.seq, "f" * 64)).problems == [
        "the chain differs from the recorded head at event 2"
    ]
    assert verify(runtime, Head(1, head.hash)).problems == [
        "no seal ends at the recorded head (event 1)"
    ]


def test_seals_made_with_another_key_are_reported_by_key_id() -> None:
    runtime = FakeRuntime()
    sealed(runtime, 2)
    other = SealKey(b"the key of another deployment, 32+")
    report = verify_chain(runtime.audit_store, runtime.audit_anchors, other, FAMILY)
    assert report.problems == [f"seal 1 was made with another key ({runtime.audit_key.key_id})"]


# --- the key ----------------------------------------------------------------------------------


def test_the_key_comes_from_the_setting_or_a_local_file_made_once(tmp_path: Path) -> None:
    base = get_settings()
    direct = base.model_copy(update={"audit_seal_key": "k" * 40})
    assert load_seal_key(direct).secret == b"k" * 40
    path = tmp_path / "keys" / "seal.key"
    local = base.model_copy(update={"audit_seal_key": "", "audit_seal_key_file": str(path)})
    first = load_seal_key(local)
    assert len(first.secret) >= 32
    assert load_seal_key(local) == first
    assert path.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    "value",
    ["", "@Microsoft.KeyVault(VaultName=kv;SecretName=audit-seal-key)", "too-short"],
    ids=["missing", "unresolved-reference", "short"],
)
def test_without_a_usable_key_sealing_and_verifying_are_unavailable(value: str) -> None:
    settings = get_settings().model_copy(
        update={"audit_seal_key": value, "audit_seal_key_file": ""}
    )
    with pytest.raises(DependencyUnavailableError):
        load_seal_key(settings)
