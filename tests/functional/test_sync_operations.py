"""The sync operations store on the emulator: a push's claims and results in one batch each, and
a batch that meets an operation claimed before falls back to one claim at a time, recognising
the claims it made itself (the emulator applies a failing batch in part; Cosmos DB rolls it
back)."""

from __future__ import annotations

from local.emulators import Emulators
from shared.bootstrap import get_runtime
from tests.functional.world import uid


def test_claims_and_results_of_a_push_go_in_one_request_each(stack: Emulators) -> None:
    from bench.support import RequestCounter
    from shared.adapters.cosmos import build_cosmos_client
    from shared.adapters.cosmos_operations import CosmosOperations

    counter = RequestCounter()
    runtime = get_runtime()
    client = build_cosmos_client(runtime.settings, raw_response_hook=counter)
    operations = CosmosOperations.from_database(
        client.get_database_client(runtime.settings.cosmos_database)
    )
    operations.claim(uid(), [uid(), uid()], 60)  # the client reads the account and container once
    owner, keys = uid(), [uid() for _ in range(5)]

    before = counter.requests
    assert operations.claim(owner, keys, 60) == set(keys)
    operations.complete(owner, {key: {"opId": key, "status": "applied"} for key in keys}, 60)
    # One request for the five claims, one for the five results (one by one they would be ten);
    # a new client may also refresh the account's metadata in the background: one request more.
    assert 2 <= counter.requests - before <= 3
    assert operations.results(owner, keys) == {k: {"opId": k, "status": "applied"} for k in keys}


def test_a_batch_meeting_a_taken_claim_falls_back_and_keeps_its_own_claims(
    stack: Emulators,
) -> None:
    operations = get_runtime().operations
    owner = uid()
    assert operations.claim(owner, ["taken"], 60) == {"taken"}

    assert operations.claim(owner, ["new-1", "taken", "new-2"], 60) == {"new-1", "new-2"}
    assert operations.claim(owner, ["new-1", "new-3"], 60) == {"new-3"}
    assert operations.results(owner, ["taken", "new-1"]) == {}

    operations.release(owner, "taken")
    assert operations.claim(owner, ["taken"], 60) == {"taken"}
