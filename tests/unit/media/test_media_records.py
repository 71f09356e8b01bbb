"""Media record rules that need no storage: upload names, download names, transcript views."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from shared.errors import PayloadTooLargeError, ValidationError
from shared.records.kinds import MEDIA
from shared.services.media import content_disposition, file_stem, transcript_view
from shared.services.media_processing import parse_upload_name
from shared.settings import get_settings

FAMILY, MEDIA_ID = str(uuid.uuid4()), str(uuid.uuid4())


def test_upload_names_are_a_family_id_and_a_media_id() -> None:
    assert parse_upload_name(f"{FAMILY}/{MEDIA_ID}") == (FAMILY, MEDIA_ID)
    assert parse_upload_name(f"uploads/{FAMILY}/{MEDIA_ID}") == (FAMILY, MEDIA_ID)
    for name in (
        MEDIA_ID,
        f"{FAMILY}/{MEDIA_ID}/extra",
        f"{FAMILY}/not-an-id",
        f"{FAMILY.upper()}/{MEDIA_ID}",
        f"../{FAMILY}/{MEDIA_ID}",
        "",
    ):
        assert parse_upload_name(name) is None, name


def test_downloads_are_named_after_the_uploaded_file() -> None:
    assert file_stem({"fileName": "C:\\Photos\\garden party.JPG", "kind": "photo", "id": "x"}) == (
        "garden party"
    )
    assert file_stem({"kind": "video", "id": MEDIA_ID}) == f"video-{MEDIA_ID[:8]}"
    assert content_disposition("attachment", "garden.jpg") == 'attachment; filename="garden.jpg"'
    assert content_disposition("inline", 'Zoë "1".jpg') == (
        "inline; filename=\"Zo_ _1_.jpg\"; filename*=UTF-8''Zo%C3%AB%20%221%22.jpg"
    )


def ready(transcript: dict[str, Any] | None, **fields: Any) -> dict[str, Any]:
    return {"kind": "audio", "status": "ready", "transcript": transcript, **fields}


def test_transcript_views_follow_processing_and_approval() -> None:
    draft = {"status": "draft", "text": "hello", "segments": [{"start": 0, "end": 1, "text": "hi"}]}
    assert transcript_view({"kind": "audio", "status": "processing"}) == {
        "status": "pending",
        "text": "",
        "segments": [],
    }
    assert transcript_view(ready(draft))["status"] == "draft"  # type: ignore[index]
    approved = transcript_view(ready(draft, transcriptApproved=True))
    assert approved == {"status": "approved", "text": "hello", "segments": draft["segments"]}
    failed = transcript_view(
        ready({"status": "failed", "failureReason": "x"}, transcriptApproved=True)
    )
    assert failed == {"status": "failed", "text": "", "segments": []}
    assert transcript_view({"kind": "photo", "status": "ready"}) is None
    assert transcript_view({"kind": "audio", "status": "rejected"}) is None


def slot(**fields: Any) -> dict[str, Any]:
    return {"kind": "photo", "contentType": "image/jpeg", "sizeBytes": 100, **fields}


def test_slots_are_checked_against_the_allowlist_and_the_kind_limits() -> None:
    check_slot, check_approval = MEDIA.checks
    settings = get_settings()
    check_slot(slot(), settings)
    check_slot(slot(kind="video", contentType="video/quicktime", sizeBytes=1024**3), settings)
    with pytest.raises(PayloadTooLargeError):
        check_slot(
            slot(kind="video", contentType="video/quicktime", sizeBytes=1024**3 + 1), settings
        )
    with pytest.raises(ValidationError):
        check_slot(slot(contentType="audio/wav"), settings)
    check_slot(
        slot(sizeBytes=10**12, status="ready"), settings
    )  # a limit lowered later spares old records
    with pytest.raises(ValidationError):
        check_approval({"transcriptApproved": True, "transcript": {"status": "failed"}}, settings)
    check_approval({"transcriptApproved": True, "transcript": {"status": "draft"}}, settings)
