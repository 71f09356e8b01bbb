"""The weekly figures counted from records on the in-memory ports: which week each record
counts in, who may read them, and the incremental update always equal to a rebuild."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from shared.errors import BadRequestError, ForbiddenError, NotFoundError
from shared.evaluation import service as evaluation
from shared.evaluation.measures import tally
from shared.evaluation.weeks import bounds, week_of, weeks_between
from shared.records import models
from shared.records.kinds import AGENDA, NOTE
from shared.services import case
from tests.fakes import FakeRuntime
from tests.unit.services.casebook import Casebook, staff

MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # ISO week 2026-W45


def test_a_week_runs_monday_to_monday_in_london() -> None:
    # Sunday 23:30 UTC in British Summer Time is already Monday in London.
    assert week_of(datetime(2026, 6, 14, 23, 30, tzinfo=UTC)) == "2026-W25"
    assert week_of(datetime(2026, 12, 6, 23, 30, tzinfo=UTC)) == "2026-W49"
    start, end = bounds("2026-W25")
    assert (start, end) == (datetime(2026, 6, 14, 23, 0, tzinfo=UTC),
                            datetime(2026, 6, 21, 23, 0, tzinfo=UTC))  # fmt: skip
    assert weeks_between(date(2026, 12, 28), date(2027, 1, 4)) == ["2026-W53", "2027-W01"]


def test_each_record_counts_in_its_own_week() -> None:
    at = "2026-11-03T10:00:00Z"  # W45
    later = "2026-11-10T10:00:00Z"  # W46
    family = {"kind": "family", "id": "m", "name": "Sam"}
    worker = {"kind": "staff", "id": "w", "name": "Ann"}
    documents: list[dict[str, Any]] = [
        {"type": "note", "createdAt": at, "createdBy": worker, "visibility": "family"},
        {"type": "note", "createdAt": at, "createdBy": worker, "visibility": "professionals"},
        {"type": "note", "createdAt": at, "createdBy": family, "visibility": "family"},
        {"type": "note", "createdAt": at, "createdBy": family, "deleted": True},
        {"type": "comment", "createdAt": later, "createdBy": family},
        {"type": "agenda", "createdAt": at, "items": [
            {"addedBy": family, "addedAt": later}, {"addedBy": family}, {"addedBy": worker}]},
        {"type": "media", "kind": "audio", "createdAt": at, "transcriptApproved": True},
        {"type": "media", "kind": "photo", "createdAt": later},
        {"type": "visit", "status": "completed", "startsAt": "2026-11-03T09:00:00+00:00",
         "endsAt": "2026-11-03T10:00:00Z", "recordedAt": "2026-11-04T10:00:00Z",
         "outcome": {"happened": True,
                     "childrenSeen": [{"seen": True, "seenAlone": True},
                                      {"seen": True, "seenAlone": False}]}},
        {"type": "visit", "status": "scheduled", "startsAt": at},
        {"type": "visit", "status": "completed", "startsAt": later},
        {"type": "words", "kind": "after-visit", "createdAt": at,
         "answers": {"listenedTo": 4, "understoodPlan": 5}},
        {"type": "words", "kind": "worry", "createdAt": at, "answers": {"listenedTo": 9}},
        {"type": "notification", "status": "delivered", "sentAt": "2026-11-03T08:00:00+00:00"},
        {"type": "notification", "status": "sent", "sentAt": later},
        {"type": "notification", "status": "failed"},
        {"type": "audit", "action": "sync", "outcome": "conflict", "at": later},
    ]  # fmt: skip
    rows = tally("t", ["2026-W45", "2026-W46"], documents, MONDAY)
    w45, w46 = (r["counts"] for r in rows)
    assert {k: v for k, v in w45.items() if v} == {
        "staffNotes": 2, "staffNotesShared": 1, "familyNotes": 1, "familyAgendaItems": 1,
        "mediaAudio": 1, "transcriptsApproved": 1, "visitsHeld": 1, "visitsRecorded": 1,
        "childrenSeen": 2, "childrenSeenAlone": 1, "wordsEntries": 2, "listenedToAnswers": 1,
        "understoodPlanAnswers": 1, "remindersSent": 1, "remindersDelivered": 1,
    }  # fmt: skip
    assert {k: v for k, v in w46.items() if v} == {
        "familyComments": 1, "familyAgendaItems": 1, "mediaPhoto": 1, "visitsHeld": 1,
        "remindersSent": 1, "syncConflicts": 1,
    }  # fmt: skip
    assert rows[0]["sums"] == {"listenedTo": 4, "understoodPlan": 5}
    assert rows[0]["medianHoursToRecord"] == 24.0
    assert rows[1]["medianHoursToRecord"] is None


@pytest.fixture
def book() -> Casebook:
    return Casebook(runtime=FakeRuntime(now=MONDAY, evaluation_min_count=0))


def test_team_managers_see_their_teams_and_the_head_of_service_all(book: Casebook) -> None:
    book.note()
    evaluation.update(book.runtime)
    figures = evaluation.read_evaluation(
        book.runtime, book.manager, "2026-11-02", "2026-11-08", None
    )
    assert isinstance(figures, dict)
    assert [t["teamId"] for t in figures["teams"]] == [book.team]
    assert figures["teams"][0]["weeks"][0]["time"]["staffNotes"]["value"] == 1
    everyone = evaluation.read_evaluation(book.runtime, book.head, "2026-11-02", "2026-11-08", None)
    assert isinstance(everyone, dict)
    assert [t["teamId"] for t in everyone["teams"]] == [book.team]
    with pytest.raises(NotFoundError):
        evaluation.read_evaluation(
            book.runtime, book.manager, "2026-11-02", "2026-11-08", book.other_team
        )
    with pytest.raises(ForbiddenError):
        evaluation.read_evaluation(book.runtime, book.worker, "2026-11-02", "2026-11-08", None)
    with pytest.raises(NotFoundError):
        evaluation.read_evaluation(book.runtime, book.parent, "2026-11-02", "2026-11-08", None)


@pytest.mark.parametrize(
    ("first", "last"),
    [(None, "2026-11-08"), ("2026-11-02", None), ("2026-11-2", "2026-11-08"),
     ("2026-11-09", "2026-11-08"), ("2025-11-01", "2026-11-08")],
)  # fmt: skip
def test_bad_dates_are_refused(book: Casebook, first: str | None, last: str | None) -> None:
    with pytest.raises(BadRequestError):
        evaluation.read_evaluation(book.runtime, book.head, first, last, None)


def activity(book: Casebook, step: int) -> None:
    """A little of everything, in whichever week the clock is in."""
    note = book.note(visibility="family")
    book.note(by=book.parent, body=f"From us {step}")
    comment = models.CommentIn.model_validate({"body": "Thanks"})
    case.create_comment(book.runtime, book.parent, book.family_id, "notes", note["id"], comment)
    title = AGENDA.create.model_validate({"title": f"Visit {step}"})
    agenda = book.service.create(book.worker, AGENDA, book.family_id, title)
    item = models.AgendaItemIn.model_validate({"text": "School"})
    case.add_agenda_item(book.runtime, book.parent, book.family_id, agenda.document["id"], item)
    if step % 2:
        patch = NOTE.patch.model_validate({"visibility": "professionals"})
        book.service.update(book.worker, NOTE, book.family_id, note["id"], patch, None)


def test_the_hourly_update_always_equals_a_rebuild(book: Casebook) -> None:
    other = staff(book.runtime, "SocialWorker", (book.other_team,))
    second = book.new_family(other, teamId=book.other_team)
    for step in range(9):
        activity(book, step)
        if step % 3 == 0:
            body = NOTE.create.model_validate({"body": "Other team", "visibility": "family"})
            book.service.create(other, NOTE, second, body)
        book.runtime.clock.advance(timedelta(days=2, hours=5))
        if step % 2 == 0:
            evaluation.update(book.runtime)
    evaluation.update(book.runtime)
    incremental = {r["id"]: r for r in book.runtime.evaluation_store.rows(None, "0", "9")}

    fresh = FakeRuntime(now=book.runtime.clock())
    fresh.records, fresh.audit_store = book.runtime.records, book.runtime.audit_store
    from tests.fakes.evaluation import RecordsCaseActivity

    fresh.case_activity = RecordsCaseActivity(fresh.records, fresh.audit_store)
    evaluation.rebuild(fresh, date(2026, 11, 2), date(2026, 11, 29))
    rebuilt = {r["id"]: r for r in fresh.evaluation_store.rows(None, "0", "9")}

    def figures(rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
        return {k: (r["counts"], r["sums"], r["medianHoursToRecord"])
                for k, r in rows.items() if any(r["counts"].values())}  # fmt: skip

    assert figures(incremental) == figures(rebuilt)
    assert sum(r["counts"]["familyAgendaItems"] for r in incremental.values()) == 9
    assert sum(r["counts"]["staffNotesShared"] for r in incremental.values()) == 5 + 3
    assert {r["teamId"] for r in incremental.values()} == {book.team, book.other_team}


def test_an_update_reads_again_only_the_changes_that_may_still_be_landing() -> None:
    overlap = evaluation.OVERLAP_SECONDS
    assert evaluation._since(None, 1_000_000) == 0
    assert evaluation._since(1_000_000, 1_000_000 + 5) == 1_000_000 - overlap
    assert evaluation._since(1_000_000, 1_000_000 + overlap) == 1_000_000
