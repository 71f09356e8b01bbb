"""The chronology on the in-memory ports: what is in it, its dates, order and numbering, what a
family member sees, and the court's CSV."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta
from typing import Any

import pytest

from shared.errors import BadRequestError, NotFoundError
from shared.records import chronology
from shared.records.kinds import CHRONOLOGY_EVENT, MEDIA, NOTE, PLAN, VISIT, Kind
from shared.services.chronology import read_chronology
from tests.unit.services.casebook import Casebook


@pytest.fixture
def book() -> Casebook:
    return Casebook()


def make(book: Casebook, of: Kind, **fields: Any) -> dict[str, Any]:
    body = of.create.model_validate(fields)
    return book.service.create(book.worker, of, book.family_id, body).document


def later(book: Casebook, hours: float = 1) -> None:
    book.runtime.clock.advance(timedelta(hours=hours))


def event(book: Casebook, day: str, summary: str, **more: Any) -> dict[str, Any]:
    fields = {"date": day, "category": "health", "summary": summary, **more}
    return make(book, CHRONOLOGY_EVENT, **fields)


def story(book: Casebook) -> dict[str, str]:
    """A family's records, made in an order unlike their dates; their ids by name."""
    ids: dict[str, str] = {}
    ids["hospital"] = event(book, "2026-11-26", "Leo seen at A&E.", visibility="family")["id"]
    later(book)
    visit = make(
        book,
        VISIT,
        startsAt="2026-11-26T16:00:00Z",
        endsAt="2026-11-26T17:00:00Z",
        location="Home",
        status="completed",
    )
    ids["visit"] = visit["id"]
    later(book)
    ids["visit_note"] = make(
        book, NOTE, body="Mia  showed me\nher room.", visitId=visit["id"], significant=True,
        visibility="family",
    )["id"]  # fmt: skip
    later(book)
    ids["plain_note"] = make(book, NOTE, body="Called school.", significant=True)["id"]
    make(book, NOTE, body="Not significant.")
    later(book)
    ids["plan"] = make(
        book, PLAN, title="Safety plan", significant=True, visibility="professionals",
        actions=[{"id": "0f8e7d6c-5b4a-4938-8271-6a5b4c3d2e1f", "text": "Call", "owner": "Sam"}],
    )["id"]  # fmt: skip
    later(book)
    ids["photo"] = make(
        book, MEDIA, kind="photo", contentType="image/jpeg", sizeBytes=10,
        caption="Mia's drawing", significant=True, visibility="family",
    )["id"]  # fmt: skip
    make(book, VISIT, startsAt="2026-12-03T10:00:00Z", endsAt="2026-12-03T11:00:00Z")
    later(book)
    ids["police"] = event(book, "2026-11-26", "Police called to the home.")["id"]
    ids["early"] = event(book, "2026-01-05", "Referral received.", category="safeguarding")["id"]
    return ids


def record_outcome(book: Casebook, visit_id: str) -> None:
    patch = VISIT.patch.model_validate({"outcome": {"happened": True, "present": ["Pat"]}})
    book.service.update(book.worker, VISIT, book.family_id, visit_id, patch, None)


def test_the_chronology_is_oldest_first_numbered_from_one_with_dates_by_the_rules(
    book: Casebook,
) -> None:
    ids = story(book)
    record_outcome(book, ids["visit"])

    items = read_chronology(book.runtime, book.worker, book.family_id, None).items

    assert [i["serial"] for i in items] == list(range(1, len(items) + 1))
    assert [(i["date"], i["source"]["id"]) for i in items] == [
        ("2026-01-05", ids["early"]),
        ("2026-11-26", ids["hospital"]),  # known only by its date: first on its day
        ("2026-11-26", ids["police"]),
        ("2026-11-26", ids["visit"]),  # completed with an outcome
        ("2026-11-26", ids["visit_note"]),  # made for the visit: dated by it
        ("2026-12-01", ids["plain_note"]),  # recorded that day
        ("2026-12-01", ids["plan"]),
        ("2026-12-01", ids["photo"]),
    ]
    by_id = {i["source"]["id"]: i for i in items}
    assert by_id[ids["visit_note"]]["summary"] == "Mia showed me her room."
    assert by_id[ids["visit_note"]]["source"] == {"type": "note", "id": ids["visit_note"]}
    assert by_id[ids["visit"]]["summary"] == "Visit at Home."
    assert by_id[ids["visit"]]["category"] == "safeguarding"
    assert by_id[ids["plan"]]["summary"] == "Plan: Safety plan (1 action)."
    assert by_id[ids["photo"]]["summary"] == "Photo: Mia's drawing"
    assert by_id[ids["police"]]["visibility"] == "professionals"


def test_a_completed_visit_without_an_outcome_is_not_in_it_unless_marked(book: Casebook) -> None:
    ids = story(book)
    items = read_chronology(book.runtime, book.worker, book.family_id, None).items
    assert ids["visit"] not in {i["source"]["id"] for i in items}

    patch = VISIT.patch.model_validate({"significant": True})
    book.service.update(book.worker, VISIT, book.family_id, ids["visit"], patch, None)
    items = read_chronology(book.runtime, book.worker, book.family_id, None).items
    assert ids["visit"] in {i["source"]["id"] for i in items}


def test_a_family_member_sees_what_is_shared_with_them_numbered_from_one(
    book: Casebook,
) -> None:
    ids = story(book)
    record_outcome(book, ids["visit"])

    items = read_chronology(book.runtime, book.parent, book.family_id, "json").items

    assert [(i["serial"], i["source"]["id"]) for i in items] == [
        (1, ids["hospital"]),
        (2, ids["visit"]),
        (3, ids["visit_note"]),
        (4, ids["photo"]),
    ]


def test_it_is_built_from_the_records_so_a_change_shows_at_once(book: Casebook) -> None:
    ids = story(book)
    note = book.runtime.records.read(book.family_id, ids["plain_note"])
    assert note is not None
    book.service.delete(book.worker, NOTE, book.family_id, ids["plain_note"], None)
    patch = CHRONOLOGY_EVENT.patch.model_validate({"date": "2025-12-31"})
    book.service.update(book.worker, CHRONOLOGY_EVENT, book.family_id, ids["police"], patch, None)

    items = read_chronology(book.runtime, book.worker, book.family_id, None).items

    assert ids["plain_note"] not in {i["source"]["id"] for i in items}
    assert items[0]["source"]["id"] == ids["police"]
    assert items[0]["date"] == "2025-12-31"


def test_events_of_the_same_day_keep_their_order_whatever_order_the_store_answers_in(
    book: Casebook,
) -> None:
    story(book)
    rows = book.runtime.records.chronology_rows(book.family_id)
    first = chronology.build(rows, lambda row: True)
    for seed in range(5):
        shuffled = list(rows)
        random.Random(seed).shuffle(shuffled)
        assert chronology.build(shuffled, lambda row: True) == first


def test_a_note_written_late_on_a_summer_evening_is_dated_by_the_london_calendar() -> None:
    rows = [
        {"id": "n1", "type": "note", "significant": True, "visibility": "family",
         "createdAt": "2026-06-30T23:30:00.000Z", "body": "Late call."},
    ]  # fmt: skip
    [item] = chronology.build(rows, lambda row: True)
    assert item["date"] == "2026-07-01"


def test_a_long_note_is_cut_at_a_word() -> None:
    text = "word " * 200
    cut = chronology.shortened(text, 23)
    assert cut == "word word word word..."


def test_outsiders_and_unknown_formats_are_refused(book: Casebook) -> None:
    with pytest.raises(NotFoundError):
        read_chronology(book.runtime, book.outsider, book.family_id, None)
    with pytest.raises(NotFoundError):
        read_chronology(book.runtime, book.admin, book.family_id, None)
    with pytest.raises(BadRequestError):
        read_chronology(book.runtime, book.worker, book.family_id, "pdf")


def test_family_members_may_not_add_to_the_chronology(book: Casebook) -> None:
    from shared.errors import ForbiddenError

    body = CHRONOLOGY_EVENT.create.model_validate(
        {"date": "2026-11-01", "category": "family", "summary": "Moved house."}
    )
    with pytest.raises(ForbiddenError):
        book.service.create(book.parent, CHRONOLOGY_EVENT, book.family_id, body)


def test_the_csv_has_the_courts_columns_and_no_cell_runs_as_a_formula(book: Casebook) -> None:
    event(book, "2026-11-26", '=HYPERLINK("http://example.org")')
    event(book, "2026-11-27", 'Mum said: "we\'re fine", then left.')

    found = read_chronology(book.runtime, book.worker, book.family_id, "csv")

    assert found.media_type == "text/csv"
    assert found.content is not None
    assert found.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(found.content.decode("utf-8-sig"))))
    assert rows[0] == ["serial", "date", "event", "source"]
    assert rows[1][:3] == ["1", "26/11/2026", '\'=HYPERLINK("http://example.org")']
    assert rows[2][2] == 'Mum said: "we\'re fine", then left.'
    assert rows[2][3] == f"Chronology entry {found.items[1]['source']['id']}"
    assert book.events()[-1] == ("read", "ok")


def test_a_word_document_leaves_out_what_xml_cannot_hold() -> None:
    import docx

    items = [
        {"serial": 1, "date": "2026-11-26", "summary": "Bell\x07 rang\x00.", "category": "other",
         "source": {"type": "chronologyEvent", "id": "e1"}, "visibility": "family"},
    ]  # fmt: skip
    content = chronology.as_docx(items, "The\x0b Family", date(2026, 12, 1))

    document = docx.Document(io.BytesIO(content))
    assert document.paragraphs[0].text == "The Family: chronology at 1 December 2026"
    assert document.tables[0].rows[1].cells[2].text == "Bell rang."
