"""Sync on the in-memory ports: replays, merges and conflicts of a push; paging of a pull."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.errors import GoneError
from shared.records.store import version_of
from shared.sync.pull import Puller
from shared.sync.push import Pusher, PushIn
from tests.unit.services.casebook import Casebook, uid


@pytest.fixture
def book() -> Casebook:
    return Casebook()


def push(book: Casebook, *operations: dict[str, Any]) -> list[dict[str, Any]]:
    def encode(error: Exception) -> dict[str, Any]:
        return {"title": type(error).__name__, "detail": str(error)}

    pusher = Pusher(book.runtime, book.worker, encode)
    return pusher.push(PushIn.model_validate({"operations": list(operations)}))


def op(action: str, record_id: str, **fields: Any) -> dict[str, Any]:
    return {"opId": uid(), "type": "note", "action": action, "id": record_id, **fields}


def test_a_replayed_operation_returns_its_first_outcome_and_writes_nothing(
    book: Casebook,
) -> None:
    note_id = uid()
    create = op("create", note_id, familyId=book.family_id, data={"body": "Offline note."})
    [first] = push(book, create)
    changed = book.runtime.records.read(book.family_id, note_id)
    [again] = push(book, create)

    assert (
        first
        == again
        == {
            "opId": create["opId"],
            "status": "applied",
            "id": note_id,
            "version": version_of(changed or {}),
        }
    )
    assert book.runtime.records.read(book.family_id, note_id) == changed


def test_an_operation_claimed_by_another_push_is_rejected_for_now(book: Casebook) -> None:
    create = op("create", uid(), familyId=book.family_id, data={"body": "x"})
    book.runtime.operations.claim(book.worker.principal.key, [create["opId"]], 60)

    [result] = push(book, create)

    assert result["status"] == "rejected"
    assert result["problem"]["title"] == "ConflictError"


def test_a_push_claims_all_its_operations_at_once_and_stores_their_results_at_once(
    book: Casebook,
) -> None:
    operations = book.runtime.operations
    creates = [
        op("create", uid(), familyId=book.family_id, data={"body": f"Offline {n}."})
        for n in range(5)
    ]
    before = operations.requests
    first = push(book, *creates)
    assert [r["status"] for r in first] == ["applied"] * 5
    assert operations.requests - before == 2  # one claim, one store of the results

    fresh = op("create", uid(), familyId=book.family_id, data={"body": "New."})
    before = operations.requests
    second = push(book, creates[0], fresh, creates[1])
    assert (second[0], second[2]) == (first[0], first[1])
    assert second[1]["status"] == "applied"
    assert operations.requests - before == 4  # the claim, a read of each replay's result, the store


def test_an_operation_sent_twice_in_one_push_is_applied_once(book: Casebook) -> None:
    note_id = uid()
    create = op("create", note_id, familyId=book.family_id, data={"body": "Once."})
    first, second = push(book, create, create)
    assert first == second
    assert first["status"] == "applied"
    notes = [d for d in book.runtime.records.documents.all(book.family_id) if d["id"] == note_id]
    assert len(notes) == 1


def test_an_operation_that_fails_unexpectedly_gives_up_its_claim_and_the_rest_are_kept(
    book: Casebook, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.errors import DependencyUnavailableError

    good = op("create", uid(), familyId=book.family_id, data={"body": "Fine."})
    bad = op("create", uid(), familyId=book.family_id, data={"body": "Unlucky."})
    original = Pusher._apply

    def flaky(self: Pusher, index: int, envelope: Any) -> dict[str, Any]:
        if envelope.op_id == bad["opId"]:
            raise DependencyUnavailableError("Cosmos DB")
        return original(self, index, envelope)

    with monkeypatch.context() as outage:
        outage.setattr(Pusher, "_apply", flaky)
        kept, failed = push(book, good, bad)
    assert kept["status"] == "applied"
    assert failed["status"] == "rejected"

    again_kept, again_failed = push(book, good, bad)
    assert again_kept == kept
    assert again_failed["status"] == "applied"


def test_changes_to_other_fields_since_the_base_version_are_merged(book: Casebook) -> None:
    note = book.note(body="Original.")
    base = version_of(note)
    book.service.update(
        book.worker,
        book_kind(),
        book.family_id,
        note["id"],
        book_kind().patch.model_validate({"visibility": "family"}),
        None,
    )

    [result] = push(
        book, op("update", note["id"], familyId=book.family_id, baseVersion=base,
                 data={"body": "Edited offline."})
    )  # fmt: skip

    stored = book.runtime.records.read(book.family_id, note["id"]) or {}
    assert result["status"] == "applied"
    assert (stored["body"], stored["visibility"]) == ("Edited offline.", "family")


def test_a_change_to_the_same_field_is_a_conflict_and_overwrites_nothing(book: Casebook) -> None:
    note = book.note(body="Original.")
    base = version_of(note)
    book.service.update(
        book.worker,
        book_kind(),
        book.family_id,
        note["id"],
        book_kind().patch.model_validate({"body": "Changed online."}),
        None,
    )

    [result] = push(
        book, op("update", note["id"], familyId=book.family_id, baseVersion=base,
                 data={"body": "Changed offline."})
    )  # fmt: skip

    assert result["status"] == "conflict"
    assert result["conflicts"] == [
        {"field": "body", "yours": "Changed offline.", "theirs": "Changed online."}
    ]
    assert result["current"]["body"] == "Changed online."
    assert (book.runtime.records.read(book.family_id, note["id"]) or {})["body"] == (
        "Changed online."
    )


def test_an_update_without_a_base_version_is_rejected(book: Casebook) -> None:
    note = book.note()
    [result] = push(book, op("update", note["id"], familyId=book.family_id, data={"body": "x"}))
    assert result["status"] == "rejected"
    assert result["problem"]["title"] == "ValidationError"


def book_kind() -> Any:
    from shared.records.kinds import NOTE

    return NOTE


def pull_all(puller: Puller, token: str | None, limit: int) -> tuple[list[list[str]], str]:
    pages: list[list[str]] = []
    while True:
        answer = puller.pull(token, limit)
        pages.append([c["id"] for c in answer["changes"]])
        token = answer["next"]
        if not answer["more"]:
            return pages, str(token)


def test_a_snapshot_pages_through_everything_and_a_delta_sends_only_what_changed(
    book: Casebook,
) -> None:
    notes = [book.note(body=f"note {n}")["id"] for n in range(5)]
    overlap = book.runtime.settings.sync_overlap_seconds
    book.runtime.clock.advance(timedelta(seconds=overlap + 60))  # out of the re-sent window
    puller = Puller(book.runtime, book.worker)

    pages, token = pull_all(puller, None, 3)

    assert [len(page) for page in pages] == [3, 3, 1]  # the family, its member and five notes
    assert set(notes) <= {i for page in pages for i in page}

    book.runtime.clock.advance(timedelta(minutes=10))
    edited = notes[0]
    book.service.update(
        book.worker,
        book_kind(),
        book.family_id,
        edited,
        book_kind().patch.model_validate({"body": "Edited."}),
        None,
    )
    delta = puller.pull(token, 3)

    assert [c["id"] for c in delta["changes"]] == [edited]
    assert delta["more"] is False


def test_writes_within_the_overlap_are_sent_again_with_the_same_version(book: Casebook) -> None:
    note = book.note()
    puller = Puller(book.runtime, book.worker)
    _, token = pull_all(puller, None, 50)

    again = puller.pull(token, 50)

    resent = {c["id"]: c["version"] for c in again["changes"]}
    assert resent[note["id"]] == version_of(note)


def test_a_note_unshared_from_the_family_is_a_tombstone_in_their_next_pull(
    book: Casebook,
) -> None:
    shared = book.note(visibility="family")
    overlap = book.runtime.settings.sync_overlap_seconds
    book.runtime.clock.advance(timedelta(seconds=overlap + 60))
    puller = Puller(book.runtime, book.parent)
    _, token = pull_all(puller, None, 50)

    book.runtime.clock.advance(timedelta(minutes=10))
    book.service.update(
        book.worker,
        book_kind(),
        book.family_id,
        shared["id"],
        book_kind().patch.model_validate({"visibility": "professionals"}),
        None,
    )
    delta = puller.pull(token, 50)

    assert [(c["id"], c["deleted"], c["data"]) for c in delta["changes"]] == [
        (shared["id"], True, None)
    ]


def test_a_family_lost_to_the_caller_is_sent_as_tombstones(book: Casebook) -> None:
    note = book.note()
    puller = Puller(book.runtime, book.worker)
    _, token = pull_all(puller, None, 50)

    family = book.runtime.records.read(book.family_id, book.family_id) or {}
    book.runtime.records.replace({**family, "workerIds": []}, family["_etag"])
    book.runtime.family_cache.clear()
    delta = Puller(book.runtime, book.worker).pull(token, 50)

    gone = {c["id"] for c in delta["changes"] if c["deleted"]}
    assert {book.family_id, book.member_id, note["id"]} <= gone


def test_a_token_older_than_the_tombstone_lifetime_is_gone(book: Casebook) -> None:
    puller = Puller(book.runtime, book.worker)
    _, token = pull_all(puller, None, 50)
    days = book.runtime.settings.sync_tombstone_days
    book.runtime.clock.advance(timedelta(days=days, seconds=1))

    with pytest.raises(GoneError):
        puller.pull(token, 50)
