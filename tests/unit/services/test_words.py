"""Words entries on the in-memory ports: who writes, withdraws and acknowledges, and what waits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.access import Caller
from shared.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from shared.records import models
from shared.records.kinds import MEDIA, VISIT, WORDS
from shared.records.service import RecordService
from shared.records.words import WordsIn
from shared.services import views, words
from shared.validation import validate
from tests.unit.services.casebook import Casebook, signed_in, staff, uid


@pytest.fixture
def book() -> Casebook:
    return Casebook()


def write(book: Casebook, by: Caller | None = None, **fields: Any) -> dict[str, Any]:
    body = validate(WordsIn, {"kind": "good-news", "text": "I read a whole book", **fields}, ())
    return words.write(book.runtime, by or book.parent, book.family_id, body).document


def photo(book: Casebook, by: Caller) -> str:
    body = MEDIA.create.model_validate(
        {"kind": "photo", "contentType": "image/jpeg", "sizeBytes": 1000}
    )
    made = RecordService(book.runtime).create(by, MEDIA, book.family_id, body)
    return str(made.document["id"])


def test_a_family_member_writes_and_staff_and_family_see_it(book: Casebook) -> None:
    entry = write(book, kind="worry", text="I worry about moving school")
    sibling = signed_in(book.runtime, {book.family_id: uid()})

    for reader in (book.worker, book.manager, sibling):
        listed = views.list_records(book.runtime, reader, WORDS, book.family_id, 50, None, {})
        assert [e["id"] for e in listed.documents] == [entry["id"]]
    assert entry["memberId"] == book.member_id
    assert entry["kind"] == "worry"
    assert "visibility" not in entry


def test_staff_may_not_write_a_familys_words(book: Casebook) -> None:
    with pytest.raises(ForbiddenError):
        write(book, by=book.worker)


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        ({"text": None}, "words_empty"),
        ({"kind": "good-news", "answers": {"listenedTo": 4}}, "answers_after_visit_only"),
        ({"kind": "after-visit", "answers": {"listenedTo": 0}}, "greater_than_equal"),
        ({"kind": "after-visit", "answers": {"understoodPlan": 6}}, "less_than_equal"),
        ({"kind": "after-visit", "answers": {"listenedTo": 3.0}}, "int_type"),
        ({"kind": "after-visit", "answers": {"listenedTo": "3"}}, "int_type"),
        ({"kind": "after-visit", "answers": {"mood": 3}}, "extra_forbidden"),
        ({"kind": "shopping"}, "literal_error"),
    ],
)
def test_bad_entries_are_422_saying_where_and_what(
    book: Casebook, fields: dict[str, Any], kind: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        write(book, **fields)
    assert kind in [e["type"] for e in refused.value.errors]


def test_the_after_visit_check_is_kept(book: Casebook) -> None:
    entry = write(book, kind="after-visit", answers={"listenedTo": 5, "understoodPlan": 2})
    assert entry["answers"] == {"listenedTo": 5, "understoodPlan": 2}


def test_media_must_be_the_familys_own_uploads(book: Casebook) -> None:
    own = photo(book, book.parent)
    staffs = photo(book, book.worker)
    elsewhere = Casebook(book.runtime)
    theirs = photo(elsewhere, elsewhere.parent)

    entry = write(book, mediaIds=[own])
    assert entry["mediaIds"] == [own]
    for wrong in (staffs, theirs, uid()):
        with pytest.raises(ValidationError) as refused:
            write(book, mediaIds=[own, wrong])
        assert refused.value.errors == [
            {"loc": ["body", "mediaIds", 1], "type": "unknown_reference"}
        ]


def test_only_the_author_withdraws_an_entry(book: Casebook) -> None:
    entry = write(book)
    sibling = signed_in(book.runtime, {book.family_id: uid()})
    same_member_other_device = signed_in(book.runtime, {book.family_id: book.member_id})
    service = RecordService(book.runtime)

    for refused in (book.worker, book.head, sibling):
        with pytest.raises(ForbiddenError):
            service.delete(refused, WORDS, book.family_id, entry["id"], None)
    with pytest.raises(NotFoundError):
        service.delete(book.outsider, WORDS, book.family_id, entry["id"], None)
    service.delete(same_member_other_device, WORDS, book.family_id, entry["id"], None)

    with pytest.raises(NotFoundError):
        views.read_record(book.runtime, book.worker, WORDS, book.family_id, entry["id"])


def test_a_repeated_create_is_safe_and_other_content_conflicts(book: Casebook) -> None:
    chosen = uid()
    first = write(book, id=chosen)
    again = words.write(
        book.runtime,
        book.parent,
        book.family_id,
        validate(WordsIn, {"id": chosen, "kind": "good-news", "text": "I read a whole book"}, ()),
    )
    assert again.created is False
    assert again.document["id"] == first["id"]
    with pytest.raises(ConflictError):
        write(book, id=chosen, text="Something else")


def test_staff_acknowledge_once_and_the_family_may_not(book: Casebook) -> None:
    entry = write(book)
    first = words.acknowledge(book.runtime, book.worker, book.family_id, entry["id"])
    book.runtime.clock.advance(timedelta(hours=1))
    second = words.acknowledge(book.runtime, book.manager, book.family_id, entry["id"])

    assert first["acknowledgedBy"]["id"] == book.worker.id
    assert second["acknowledgedBy"] == first["acknowledgedBy"]
    assert second["acknowledgedAt"] == first["acknowledgedAt"]
    with pytest.raises(ForbiddenError):
        words.acknowledge(book.runtime, book.parent, book.family_id, entry["id"])
    with pytest.raises(NotFoundError):
        words.acknowledge(book.runtime, book.outsider, book.family_id, entry["id"])


def test_managers_see_entries_waiting_longer_than_the_days_allowed(book: Casebook) -> None:
    waiting = write(book)
    answered = write(book)
    words.acknowledge(book.runtime, book.worker, book.family_id, answered["id"])
    book.runtime.clock.advance(timedelta(days=book.runtime.settings.words_ack_days, hours=1))
    fresh = write(book)
    other_team_manager = staff(book.runtime, "TeamManager", (book.other_team,))

    mine = words.unacknowledged(book.runtime, book.manager, 50, None).documents
    everyone = words.unacknowledged(book.runtime, book.head, 50, None).documents

    assert [e["id"] for e in mine] == [waiting["id"]]
    assert waiting["id"] in [e["id"] for e in everyone]
    assert fresh["id"] not in [e["id"] for e in everyone]
    assert words.unacknowledged(book.runtime, other_team_manager, 50, None).documents == []
    for refused in (book.worker, book.admin, book.parent):
        with pytest.raises(ForbiddenError):
            words.unacknowledged(book.runtime, refused, 50, None)


def test_an_entry_names_only_a_visit_of_its_family(book: Casebook) -> None:
    visit = RecordService(book.runtime).create(
        book.worker,
        VISIT,
        book.family_id,
        models.VisitIn.model_validate(
            {"startsAt": "2026-12-02T10:00:00Z", "endsAt": "2026-12-02T11:00:00Z"}
        ),
    )
    entry = write(book, kind="before-visit", visitId=visit.document["id"])
    assert entry["visitId"] == visit.document["id"]
    with pytest.raises(ValidationError):
        write(book, kind="before-visit", visitId=uid())
