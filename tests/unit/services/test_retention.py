"""Retention and disposal decisions on the in-memory ports: what is withdrawn, held, destroyed,
resumed and purged, and what a certificate says."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.records.kinds import MEMBER, NOTE
from shared.records.models import FamilyPatch
from shared.records.store import version_of
from shared.records.words import WordsIn
from shared.retention.disposal import Disposer
from shared.safety import alerts
from shared.safety.models import AlertIn
from shared.services import families, words
from shared.sign_ins import link_sign_in
from shared.storage_layout import DERIVATIVES_CONTAINER, ORIGINALS_CONTAINER
from tests.unit.services.casebook import Casebook, signed_in

CLOSED_LONG_AGO = "1990-01-01T00:00:00Z"


class RunKilledError(Exception):
    """A run stopped midway, as a killed worker would be."""


@pytest.fixture
def book() -> Casebook:
    return Casebook()


def closed_family(book: Casebook) -> str:
    """A family closed in 1990 (kept 25 years after closure), with a note, a linked sign-in and
    media blobs."""
    family_id = book.new_family(book.manager, closedAt=CLOSED_LONG_AGO, workerIds=[book.worker.id])
    note = NOTE.create.model_validate({"body": "Closing summary."})
    book.service.create(book.worker, NOTE, family_id, note)
    link_sign_in(book.runtime.directory, book.runtime.clock, book.parent, family_id, "m1")
    book.runtime.media_blobs.put(ORIGINALS_CONTAINER, f"{family_id}/photo", b"x" * 10)
    book.runtime.media_blobs.put(DERIVATIVES_CONTAINER, f"{family_id}/photo-small.jpg", b"y")
    return family_id


def past_destroy_after(book: Casebook) -> None:
    settings = book.runtime.settings
    book.runtime.clock.advance(
        timedelta(days=settings.sync_tombstone_days, seconds=settings.sync_overlap_seconds + 1)
    )


def test_a_family_past_retention_is_withdrawn_first_and_destroyed_only_later(
    book: Casebook,
) -> None:
    family_id = closed_family(book)

    first = Disposer(book.runtime).run()

    family = book.runtime.records.read(family_id, family_id) or {}
    assert (first.withdrawn, first.destroyed) == (1, 0)
    assert family["deleted"] is True
    assert family["disposal"]["retainUntil"] == "2015-01-01"
    assert book.runtime.media_blobs.names(ORIGINALS_CONTAINER) == [f"{family_id}/photo"]

    past_destroy_after(book)
    second = Disposer(book.runtime).run()

    assert (second.destroyed, second.certificates) == (1, [family_id])
    assert book.runtime.records.documents.all(family_id) == []
    assert book.runtime.audit_store.count(family_id) == 0
    assert book.runtime.media_blobs.names(ORIGINALS_CONTAINER) == []
    assert book.runtime.directory.read(f"familylink:{book.parent.principal.key}") is not None
    link = book.runtime.directory.read(f"familylink:{book.parent.principal.key}") or {}
    assert family_id not in link["memberships"]


def test_the_certificate_counts_what_was_destroyed_and_anchors_the_audit_chain(
    book: Casebook,
) -> None:
    family_id = closed_family(book)
    events = len(book.runtime.audit_store.events(family_id))
    Disposer(book.runtime).run()
    past_destroy_after(book)
    Disposer(book.runtime).run()

    certificate = book.runtime.disposals.read(family_id) or {}
    assert certificate["status"] == "complete"
    assert certificate["destroyed"]["records"] == {"family": 1, "note": 1}
    assert certificate["destroyed"]["auditEvents"] == events
    assert certificate["destroyed"]["blobs"][ORIGINALS_CONTAINER] == 1
    assert certificate["destroyed"]["blobBytes"] == 11
    assert certificate["destroyed"]["memberLinks"] == 1
    assert certificate["audit"]["verified"] is True
    assert certificate["audit"]["head"]["seq"] == events
    assert certificate["remaining"] == {"records": 0, "auditEvents": 0, "blobs": 0}


def test_a_family_under_legal_hold_is_reported_and_left_alone(book: Casebook) -> None:
    family_id = closed_family(book)
    families.update_family(
        book.runtime,
        book.manager,
        family_id,
        FamilyPatch.model_validate({"legalHold": True}),
        None,
    )

    report = Disposer(book.runtime).run()

    assert (report.past_retention, report.held, report.withdrawn) == (1, 1, 0)
    assert (book.runtime.records.read(family_id, family_id) or {})["deleted"] is False


def test_a_stale_stored_date_never_brings_a_disposal_forward(book: Casebook) -> None:
    family_id = closed_family(book)
    family = book.runtime.records.read(family_id, family_id) or {}
    reopened = {**family, "closedAt": "2026-11-01T00:00:00Z"}  # retainUntil left as it was
    book.runtime.records.replace(reopened, family["_etag"])

    report = Disposer(book.runtime).run()

    assert (report.not_yet_due, report.withdrawn) == (1, 0)
    assert (book.runtime.records.read(family_id, family_id) or {})["retainUntil"] == "2051-11-01"


def test_a_destruction_cut_short_is_finished_by_the_next_run(book: Casebook) -> None:
    family_id = closed_family(book)
    Disposer(book.runtime).run()
    past_destroy_after(book)

    def crash_after_the_family(family: str, stage: str, deleted: int) -> None:
        if stage == "family":
            raise RunKilledError(stage)

    with pytest.raises(RunKilledError):
        Disposer(book.runtime, batch_size=1, checkpoint=crash_after_the_family).run()
    assert (book.runtime.disposals.read(family_id) or {})["status"] == "destroying"

    rerun = Disposer(book.runtime).run()

    assert (rerun.resumed, rerun.destroyed) == (1, 1)
    assert (book.runtime.disposals.read(family_id) or {})["status"] == "complete"


def test_draft_tombstones_are_purged_after_their_lifetime_unless_the_family_is_held(
    book: Casebook,
) -> None:
    draft = book.note(body="Typed in the wrong family.")
    book.service.delete(book.worker, NOTE, book.family_id, draft["id"], f'"{version_of(draft)}"')
    settled = book.note(body="Seen by the family.", visibility="family")
    book.service.delete(
        book.worker, NOTE, book.family_id, settled["id"], f'"{version_of(settled)}"'
    )
    settings = book.runtime.settings
    book.runtime.clock.advance(
        timedelta(days=settings.sync_tombstone_days + 1, seconds=settings.sync_overlap_seconds + 1)
    )

    report = Disposer(book.runtime).run()

    assert report.tombstones_purged == 1
    assert book.runtime.records.read(book.family_id, draft["id"]) is None
    assert book.runtime.records.read(book.family_id, settled["id"]) is not None


def test_a_disposal_destroys_visit_records_and_chronology_events_with_the_rest(
    book: Casebook,
) -> None:
    from shared.records import models
    from shared.records.kinds import CHRONOLOGY_EVENT, VISIT
    from shared.services import case

    family_id = closed_family(book)
    child = models.MemberIn.model_validate(
        {"displayName": "Mia", "relationship": "daughter", "child": True,
         "dateOfBirth": "1980-01-01", "cmsId": "LL-1"}
    )  # fmt: skip
    mia = case.create_member(book.runtime, book.manager, family_id, child).document["id"]
    visit = VISIT.create.model_validate(
        {"startsAt": "1989-06-01T10:00:00Z", "endsAt": "1989-06-01T11:00:00Z",
         "status": "completed", "outcome": {"happened": True, "childrenSeen": [
             {"memberId": mia, "seen": True, "seenAlone": True}]}}
    )  # fmt: skip
    book.service.create(book.worker, VISIT, family_id, visit)
    event = CHRONOLOGY_EVENT.create.model_validate(
        {"date": "1989-05-01", "category": "legal", "summary": "Care order made."}
    )
    book.service.create(book.worker, CHRONOLOGY_EVENT, family_id, event)

    Disposer(book.runtime).run()
    past_destroy_after(book)
    Disposer(book.runtime).run()

    certificate = book.runtime.disposals.read(family_id) or {}
    assert certificate["destroyed"]["records"] == {
        "family": 1, "note": 1, "member": 1, "visit": 1, "chronologyEvent": 1
    }  # fmt: skip
    assert book.runtime.records.documents.all(family_id) == []


def test_words_entries_and_safety_alerts_go_with_their_family_and_are_counted(
    book: Casebook,
) -> None:
    family_id = closed_family(book)
    member = book.service.create(
        book.worker,
        MEMBER,
        family_id,
        MEMBER.create.model_validate({"displayName": "Ash", "relationship": "son"}),
    )
    child = signed_in(book.runtime, {family_id: str(member.document["id"])})
    words.write(
        book.runtime, child, family_id, WordsIn.model_validate({"kind": "worry", "text": "x"})
    )
    alerts.raise_alert(book.runtime, child, family_id, AlertIn.model_validate({}))
    kept = {str(d["type"]) for d in book.runtime.records.documents.all(family_id)}
    assert {"words", "safetyAlert", "safetyText"} <= kept

    Disposer(book.runtime).run()
    past_destroy_after(book)
    Disposer(book.runtime).run()

    assert book.runtime.records.documents.all(family_id) == []
    certificate = book.runtime.disposals.read(family_id) or {}
    destroyed = certificate["destroyed"]["records"]
    assert (destroyed["words"], destroyed["safetyAlert"]) == (1, 1)
    assert destroyed["safetyText"] >= 1
