"""Media records: upload slots, and what each caller sees of a photo, video or recording.

- ``POST .../media`` creates the record (``awaiting_upload``) and issues a write-only URL for
  exactly one blob in ``uploads``, named ``<familyId>/<mediaId>``. Repeating the same request
  with the same id (a safe retry, or a device that created the record offline through sync)
  answers with the record and, while nothing has been uploaded yet, a fresh URL.
- A ``ready`` record carries read URLs (at most 5 minutes) for the sanitised file, its poster
  and thumbnails, each with ``Content-Disposition`` set. Issuing them is the audited read; the
  download itself goes straight to Blob Storage. The original upload is never served.
- Transcripts start as drafts. Staff see drafts; a family member sees a transcript only once
  staff approved it, and otherwise no ``transcript`` at all.
- Deleting a record makes it a tombstone and issues no more links; its blobs stay (the original
  is part of the child's record) until the family's records are disposed of.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from shared.access import Caller, FamilyAccess
from shared.ports.runtime import Runtime
from shared.records import models
from shared.records.kinds import MEDIA
from shared.records.service import Created, RecordService
from shared.records.store import now_iso
from shared.storage_layout import DERIVATIVES_CONTAINER, UPLOADS_CONTAINER

MAX_UPLOAD_MINUTES = 15
MAX_DOWNLOAD_MINUTES = 5
FINAL_STATUSES = frozenset({"ready", "rejected"})
RECORDINGS = frozenset({"audio", "video"})
THUMBNAIL_ROLES = ("small", "large")
UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._ -]+")


def upload_blob_name(family_id: str, media_id: str) -> str:
    return f"{family_id}/{media_id}"


def create_slot(
    runtime: Runtime, caller: Caller, family_id: str, body: models.MediaIn
) -> tuple[Created, FamilyAccess, dict[str, Any] | None]:
    """The media record, the caller's access, and an upload slot while one is still useful."""
    service = RecordService(runtime)
    access = service.access(caller, family_id, MEDIA)
    result = service.create(caller, MEDIA, family_id, body, access=access)
    document = result.document
    upload = None
    if document.get("status") == "awaiting_upload":
        upload = upload_slot(runtime, document)
    return result, access, upload


def upload_slot(runtime: Runtime, document: Mapping[str, Any]) -> dict[str, Any]:
    minutes = min(runtime.settings.media_upload_url_minutes, MAX_UPLOAD_MINUTES)
    name = upload_blob_name(str(document["familyId"]), str(document["id"]))
    signed = runtime.blob_links.upload(UPLOADS_CONTAINER, name, timedelta(minutes=minutes))
    return {
        "url": signed.url,
        "method": "PUT",
        "headers": {"x-ms-blob-type": "BlockBlob", "Content-Type": document["contentType"]},
        "expiresAt": now_iso(signed.expires_at),
    }


def media_view(
    runtime: Runtime, access: FamilyAccess, shown: dict[str, Any], document: Mapping[str, Any]
) -> dict[str, Any]:
    """Add the caller's links and transcript to a presented media record."""
    transcript = transcript_view(document)
    if transcript is not None and (access.is_staff or transcript["status"] == "approved"):
        shown["transcript"] = transcript
    if document.get("status") == "ready" and not document.get("deleted"):
        shown.update(links(runtime, document))
    return shown


def transcript_view(document: Mapping[str, Any]) -> dict[str, Any] | None:
    if document.get("kind") not in RECORDINGS or document.get("status") == "rejected":
        return None
    if document.get("status") != "ready":
        return {"status": "pending", "text": "", "segments": []}
    stored = document.get("transcript")
    if not stored:
        return None
    status = stored.get("status", "failed")
    if status == "draft" and document.get("transcriptApproved"):
        status = "approved"
    view: dict[str, Any] = {
        "status": status,
        "text": stored.get("text", ""),
        "segments": list(stored.get("segments", [])),
    }
    if stored.get("language"):
        view["language"] = stored["language"]
    return view


def links(runtime: Runtime, document: Mapping[str, Any]) -> dict[str, Any]:
    minutes = min(runtime.settings.media_download_url_minutes, MAX_DOWNLOAD_MINUTES)
    lifetime = timedelta(minutes=minutes)
    derivatives = {d["role"]: d for d in document.get("derivatives", [])}
    stem = file_stem(document)

    def url(role: str, disposition: str) -> str:
        derivative = derivatives[role]
        extension = str(derivative["name"]).rsplit(".", 1)[-1]
        name = stem if role == document["kind"] else f"{stem}-{role}"
        return runtime.blob_links.read(
            DERIVATIVES_CONTAINER,
            derivative["name"],
            lifetime,
            content_type=derivative["contentType"],
            content_disposition=content_disposition(disposition, f"{name}.{extension}"),
        ).url

    shown: dict[str, Any] = {}
    if document["kind"] in derivatives:
        shown["downloadUrl"] = url(document["kind"], "attachment")
    if "poster" in derivatives:
        shown["posterUrl"] = url("poster", "inline")
    thumbnails = [
        {
            "size": role,
            "url": url(role, "inline"),
            "width": derivatives[role].get("width"),
            "height": derivatives[role].get("height"),
        }
        for role in THUMBNAIL_ROLES
        if role in derivatives
    ]
    if thumbnails:
        shown["thumbnails"] = thumbnails
    return shown


def file_stem(document: Mapping[str, Any]) -> str:
    """The name a download is saved under: the uploader's file name without its extension."""
    given = str(document.get("fileName") or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    stem = given.rsplit(".", 1)[0] if "." in given else given
    return stem.strip() or f"{document['kind']}-{str(document['id'])[:8]}"


def content_disposition(disposition: str, filename: str) -> str:
    """``attachment; filename="ascii"; filename*=UTF-8''percent-encoded`` (RFC 6266)."""
    ascii_name = UNSAFE_FILENAME.sub("_", filename).strip() or "download"
    header = f'{disposition}; filename="{ascii_name}"'
    if ascii_name != filename:
        header += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return header
