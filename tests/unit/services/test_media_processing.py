"""Media processing decisions on the in-memory ports: who processes an upload, how often it is
tried, and why it is rejected. The pipeline itself is the real one (``shared.media``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.records import models
from shared.services.media import create_slot, upload_blob_name
from shared.services.media_processing import (
    HARMFUL,
    MISSING,
    NOT_SCANNED,
    SCAN_RESULT_TAG,
    MediaProcessor,
)
from shared.storage_layout import DERIVATIVES_CONTAINER, ORIGINALS_CONTAINER, UPLOADS_CONTAINER
from tests.fakes import FakeRuntime
from tests.fakes.blobs import InMemoryMediaBlobs, WriteRefusedError
from tests.unit.media import samples
from tests.unit.services.casebook import Casebook


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("photo") / "photo.jpg"
    return samples.jpeg_with_gps(path, size=(64, 48)).read_bytes()


def casebook(**settings: Any) -> Casebook:
    return Casebook(FakeRuntime(**settings))


def slot(book: Casebook, size: int, kind: str = "photo", content_type: str = "image/jpeg") -> str:
    body = models.MediaIn.model_validate(
        {"kind": kind, "contentType": content_type, "sizeBytes": size}
    )
    made, _, upload = create_slot(book.runtime, book.worker, book.family_id, body)
    assert upload is not None
    return upload_blob_name(book.family_id, str(made.document["id"]))


def record(book: Casebook, name: str) -> dict[str, Any]:
    family_id, media_id = name.split("/")
    return book.runtime.records.read(family_id, media_id) or {}


def process(book: Casebook, name: str) -> str:
    return MediaProcessor(book.runtime).process(name)


def test_an_upload_becomes_ready_once_and_its_original_is_archived(photo: bytes) -> None:
    book = casebook()
    name = slot(book, len(photo))
    blobs = book.runtime.media_blobs
    blobs.put_upload(name, photo)

    assert process(book, name) == "ready"
    assert process(book, name) == "duplicate"

    stored = record(book, name)
    assert stored["status"] == "ready"
    assert blobs.names(UPLOADS_CONTAINER) == []
    assert blobs.containers[ORIGINALS_CONTAINER][name].data == photo
    assert {d["name"] for d in stored["derivatives"]} == set(blobs.names(DERIVATIVES_CONTAINER))


def test_an_upload_leased_by_another_worker_is_in_progress_and_counts_no_attempt(
    photo: bytes,
) -> None:
    book = casebook()
    name = slot(book, len(photo))
    book.runtime.media_blobs.put_upload(name, photo)
    book.runtime.media_blobs.hold_lease(name)

    assert process(book, name) == "in-progress"
    assert record(book, name)["status"] == "awaiting_upload"
    assert "processing" not in record(book, name)


def test_an_upload_of_another_size_than_declared_is_rejected_unread(photo: bytes) -> None:
    book = casebook()
    name = slot(book, len(photo) + 1)
    book.runtime.media_blobs.put_upload(name, photo)

    assert process(book, name) == "rejected"

    stored = record(book, name)
    assert stored["rejectedCode"] == "size-mismatch"
    assert "was not accepted" in stored["rejectedReason"]
    assert book.runtime.media_blobs.names(UPLOADS_CONTAINER) == []
    assert book.runtime.media_blobs.names(ORIGINALS_CONTAINER) == []
    assert book.runtime.media_blobs.writes == 0


def test_an_upload_over_its_kinds_limit_is_rejected(photo: bytes) -> None:
    book = casebook(media_photo_max_bytes=len(photo))
    name = slot(book, len(photo))
    book.runtime.media_blobs.put_upload(name, photo + b"\0")

    assert process(book, name) == "rejected"
    assert record(book, name)["rejectedCode"] == "too-large"


def test_bytes_that_are_not_what_was_declared_are_rejected_with_a_reason() -> None:
    book = casebook()
    data = b"MZ\x90\x00" + b"\0" * 60
    name = slot(book, len(data))
    book.runtime.media_blobs.put_upload(name, data)

    assert process(book, name) == "rejected"
    stored = record(book, name)
    assert stored["rejectedReason"]
    assert book.runtime.media_blobs.names(DERIVATIVES_CONTAINER) == []


def test_attempts_are_counted_and_the_last_allowed_failure_ends_rejected(photo: bytes) -> None:
    book = casebook()
    name = slot(book, len(photo))
    blobs = book.runtime.media_blobs
    blobs.put_upload(name, photo)
    blobs.failing_writes = 10
    allowed = book.runtime.settings.media_max_attempts

    for attempt in range(1, allowed + 1):
        with pytest.raises(WriteRefusedError):
            process(book, name)
        assert record(book, name)["processing"]["attempts"] == attempt

    assert process(book, name) == "rejected"
    stored = record(book, name)
    assert stored["rejectedCode"] == "too-many-attempts"
    assert f"after {allowed} attempts" in stored["rejectedReason"]


def test_an_upload_gone_while_processing_is_rejected_as_missing(photo: bytes) -> None:
    book = casebook()
    name = slot(book, len(photo))
    book.runtime.media_blobs.put_upload(name, photo)
    book.runtime.media_blobs.failing_writes = 1
    with pytest.raises(WriteRefusedError):
        process(book, name)
    book.runtime.media_blobs.delete_blob(UPLOADS_CONTAINER, name)

    assert process(book, name) == "rejected"
    assert record(book, name)["rejectedReason"] == MISSING


def test_an_upload_replaced_while_it_is_read_is_left_to_its_own_event(photo: bytes) -> None:
    class ReplacedMidway(InMemoryMediaBlobs):
        def read_upload(self, name: str, etag: str) -> Any:
            self.put_upload(name, photo)  # a second PUT to the same upload URL
            return super().read_upload(name, etag)

    book = casebook()
    blobs = ReplacedMidway(book.runtime.clock)
    book.runtime.media_blobs = blobs
    name = slot(book, len(photo))
    blobs.put_upload(name, photo)

    assert process(book, name) == "superseded"
    assert blobs.names(UPLOADS_CONTAINER) == [name]


def test_an_upload_without_a_record_is_discarded() -> None:
    book = casebook()
    name = f"{book.family_id}/{'0' * 8}-0000-4000-8000-{'0' * 12}"
    book.runtime.media_blobs.put_upload(name, b"anything")

    assert process(book, name) == "no-record"
    assert book.runtime.media_blobs.names(UPLOADS_CONTAINER) == []


@pytest.mark.parametrize(
    ("verdict", "outcome", "reason"),
    [
        ("No threats found", "ready", None),
        ("Malicious", "rejected", HARMFUL),
        (None, "waiting-for-scan", None),
    ],
)
def test_with_scanning_on_only_a_clean_verdict_lets_an_upload_through(
    photo: bytes, verdict: str | None, outcome: str, reason: str | None
) -> None:
    book = casebook(media_malware_scanning=True)
    name = slot(book, len(photo))
    tags = {SCAN_RESULT_TAG: verdict} if verdict else {}
    book.runtime.media_blobs.put_upload(name, photo, tags=tags)

    assert process(book, name) == outcome
    assert record(book, name).get("rejectedReason") == reason


def test_with_no_verdict_in_time_the_upload_is_rejected_as_not_scanned(photo: bytes) -> None:
    book = casebook(media_malware_scanning=True)
    name = slot(book, len(photo))
    book.runtime.media_blobs.put_upload(name, photo)
    assert process(book, name) == "waiting-for-scan"

    waited = book.runtime.settings.media_scan_wait_minutes
    book.runtime.clock.advance(timedelta(minutes=waited, seconds=1))

    assert MediaProcessor(book.runtime).recheck_due() == ["rejected"]
    assert record(book, name)["rejectedReason"] == NOT_SCANNED
