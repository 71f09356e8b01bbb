"""Create, replay, conflict, merge patch and versions of case records, on the in-memory ports."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.errors import ConflictError, PreconditionFailedError, ValidationError
from shared.records.kinds import NOTE, VISIT
from shared.records.store import version_of
from shared.records.versions import version_type
from tests.unit.services.casebook import Casebook, uid


@pytest.fixture
def book() -> Casebook:
    return Casebook()


def create_note(book: Casebook, note_id: str, body: str) -> tuple[dict[str, object], bool]:
    made = book.service.create(
        book.worker, NOTE, book.family_id, NOTE.create.model_validate({"id": note_id, "body": body})
    )
    return made.document, made.created


def test_the_same_create_again_is_a_replay_of_the_first_answer(book: Casebook) -> None:
    note_id = uid()
    first, created = create_note(book, note_id, "Home visit.")
    again, created_again = create_note(book, note_id, "Home visit.")

    assert (created, created_again) == (True, False)
    assert version_of(again) == version_of(first)
    assert book.events()[-2:] == [("create", "ok"), ("create", "replayed")]


def test_another_create_with_a_taken_id_is_a_409_showing_the_record(book: Casebook) -> None:
    note_id = uid()
    create_note(book, note_id, "Home visit.")

    with pytest.raises(ConflictError) as clash:
        create_note(book, note_id, "Something else.")

    assert clash.value.extensions["current"]["body"] == "Home visit."
    assert book.events()[-1] == ("create", "conflict")


def test_a_replay_of_a_create_deleted_since_is_a_409(book: Casebook) -> None:
    note_id = uid()
    made, _ = create_note(book, note_id, "Home visit.")
    book.service.delete(book.worker, NOTE, book.family_id, note_id, f'"{version_of(made)}"')

    with pytest.raises(ConflictError):
        create_note(book, note_id, "Home visit.")


def test_an_update_naming_an_old_version_is_a_412_with_the_current_record(book: Casebook) -> None:
    note = book.note()
    patch = NOTE.patch.model_validate({"body": "v2"})
    changed = book.service.update(book.worker, NOTE, book.family_id, note["id"], patch, None)

    stale = NOTE.patch.model_validate({"body": "v3"})
    with pytest.raises(PreconditionFailedError) as refused:
        book.service.update(
            book.worker, NOTE, book.family_id, note["id"], stale, f'"{version_of(note)}"'
        )

    assert refused.value.extensions["current"]["version"] == version_of(changed)
    assert book.runtime.records.read(book.family_id, note["id"])["body"] == "v2"  # type: ignore[index]


def test_a_write_racing_another_is_a_412_and_an_audited_conflict(book: Casebook) -> None:
    note = book.note()
    access = book.service.access(book.worker, book.family_id, NOTE)
    book.service.update(
        book.worker,
        NOTE,
        book.family_id,
        note["id"],
        NOTE.patch.model_validate({"body": "x"}),
        None,
    )

    with pytest.raises(PreconditionFailedError):
        book.service.replace(access, NOTE, {**note, "body": "y"}, note, "update")

    assert book.events()[-2:] == [("update", "ok"), ("update", "conflict")]


def test_a_merge_patch_null_removes_an_optional_field_but_not_a_required_one(
    book: Casebook,
) -> None:
    visit_id = str(
        book.service.create(
            book.worker,
            VISIT,
            book.family_id,
            VISIT.create.model_validate(
                {"startsAt": "2026-12-02T10:00:00Z", "endsAt": "2026-12-02T11:00:00Z"}
            ),
        ).document["id"]
    )
    note = book.note(visitId=visit_id)

    unlinked = book.service.update(
        book.worker,
        NOTE,
        book.family_id,
        note["id"],
        NOTE.patch.model_validate({"visitId": None}),
        None,
    )
    assert "visitId" not in unlinked

    with pytest.raises(ValidationError) as refused:
        book.service.update(
            book.worker,
            NOTE,
            book.family_id,
            note["id"],
            NOTE.patch.model_validate({"body": None}),
            None,
        )
    assert refused.value.errors == [{"loc": ["body", "body"], "type": "null_not_allowed"}]


def test_a_reference_to_a_record_of_another_family_is_a_422(book: Casebook) -> None:
    elsewhere = book.new_family(book.worker)
    visit = book.service.create(
        book.worker,
        VISIT,
        elsewhere,
        VISIT.create.model_validate(
            {"startsAt": "2026-12-02T10:00:00Z", "endsAt": "2026-12-02T11:00:00Z"}
        ),
    ).document
    with pytest.raises(ValidationError) as refused:
        book.note(visitId=visit["id"])
    assert refused.value.errors == [{"loc": ["body", "visitId"], "type": "unknown_reference"}]


def test_an_edit_of_a_settled_note_keeps_the_version_it_replaces(book: Casebook) -> None:
    draft = book.note(body="First draft.")
    book.service.update(
        book.worker,
        NOTE,
        book.family_id,
        draft["id"],
        NOTE.patch.model_validate({"body": "Tidied."}),
        None,
    )
    book.runtime.clock.advance(timedelta(hours=25))
    book.service.update(
        book.worker,
        NOTE,
        book.family_id,
        draft["id"],
        NOTE.patch.model_validate({"body": "Corrected."}),
        None,
    )

    kept = [
        d
        for d in book.runtime.records.documents.all(book.family_id)
        if d["type"] == version_type("note")
    ]
    assert [k["snapshot"]["body"] for k in kept] == ["Tidied."]


def test_a_list_pages_with_a_sealed_token_newest_first(book: Casebook) -> None:
    made = []
    for n in range(5):
        made.append(book.note(body=f"note {n}")["id"])
        book.runtime.clock.advance(timedelta(seconds=1))

    first = book.service.list(book.worker, NOTE, book.family_id, 2, None)
    second = book.service.list(book.worker, NOTE, book.family_id, 2, first.next)
    last = book.service.list(book.worker, NOTE, book.family_id, 2, second.next)

    pages = [first.documents, second.documents, last.documents]
    assert [[d["id"] for d in page] for page in pages] == [
        made[4:2:-1],
        made[2:0:-1],
        made[:1],
    ]
    assert last.next is None
