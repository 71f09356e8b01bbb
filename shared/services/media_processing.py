"""Process an upload into its media record: ``processing`` -> ``ready`` or ``rejected``.

``MediaProcessor.process`` is what the queue-triggered function calls with the name of a blob in
``uploads`` (``<familyId>/<mediaId>``), taken from the blob-created event Event Grid put on the
queue. It never receives the bytes: it streams the blob to a
temporary file, and ``shared.media.process_upload`` does the rest. Its rules:

- Idempotent. The record keeps the ETag of the upload it finished (``processedEtag``): the same
  blob version delivered again changes nothing. A later upload to a finished slot is discarded.
- Fenced. A worker takes a lease on the upload blob before it changes anything, and renews it
  while it works: a duplicate event, a second queue message or the recheck timer finding the
  upload meanwhile is told ``in-progress`` and counts nothing. A worker that dies stops renewing,
  so its lease lapses (``LEASE_SECONDS``) and the next delivery takes over.
- Bounded. Each attempt is counted on the record once the lease is held, before the work starts;
  an upload whose processing failed ``MEDIA_MAX_ATTEMPTS`` times (an error, a timeout, a worker
  that died) ends ``rejected``, never retried forever. Bad bytes are rejected at once, with a
  reason a person understands. Only failures of our own I/O (storage, database) raise, so the
  queue delivers the message again.
- Sized as declared. An upload over its kind's limit, or of any other size than the
  ``sizeBytes`` its slot was issued for, is rejected before a byte of it is read. The upload URL
  cannot bound the size itself: a SAS has no size condition, and the one blob type with a
  length fixed at creation (page blobs) is chosen by the client's request, not by the SAS.
- Safe. Derivatives go to ``derivatives``; the original is copied to ``originals`` (read by the
  app only) and removed from ``uploads``, so an upload URL that has not yet expired cannot
  change it afterwards.
- Malware scanning. With ``MEDIA_MALWARE_SCANNING`` on, nothing is processed until Defender for
  Storage has tagged the blob ``Malware Scanning scan result: No threats found``. A missing tag
  is not clean: the record stays ``processing`` and ``recheck_due`` (a timer) looks again; with
  no verdict after ``MEDIA_SCAN_WAIT_MINUTES`` it is rejected. Any other verdict rejects it and
  deletes the upload.
- A record whose attempt stalled (its worker died mid-way) is picked up by ``recheck_due`` too.

The processor writes only its own fields (``status``, ``processing``, results), re-reading and
retrying on a version conflict, so a caption edited meanwhile is never lost. ``updatedAt`` and
``updatedBy`` keep describing people's edits; ``processedAt`` says when processing ended.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared.ids import canonical_id
from shared.ports.errors import StorageError, VersionMismatchError
from shared.ports.media import BlobInfo, Lease, MediaBlobs
from shared.ports.runtime import Runtime
from shared.records.store import now_iso, with_history
from shared.services.media import FINAL_STATUSES, RECORDINGS, upload_blob_name
from shared.storage_layout import UPLOADS_CONTAINER

if TYPE_CHECKING:
    from shared.media import MediaOptions, Ready, Rejected

log = logging.getLogger("familystory.media")

SCAN_RESULT_TAG = "Malware Scanning scan result"
CLEAN = "No threats found"
SCAN_RECHECK = timedelta(minutes=1)
STALL_MARGIN = timedelta(minutes=5)
LOST_EVENT_AFTER = timedelta(minutes=10)
UPDATE_RETRIES = 5
LEASE_SECONDS = 60  # the longest finite blob lease
LEASE_RENEW_SECONDS = 20

HARMFUL = "The file was found to contain malware, so it was deleted."
MISSING = "The uploaded file could not be found. Please upload it again."
NOT_SCANNED = "The file could not be checked for viruses in time, so it was not accepted."
TOO_MANY_ATTEMPTS = (
    "The file could not be processed after {attempts} attempts. Please try uploading it again."
)

Change = Callable[[dict[str, Any]], dict[str, Any] | None]


BLOB_CREATED = "Microsoft.Storage.BlobCreated"
UPLOAD_SUBJECT_PREFIX = f"/blobServices/default/containers/{UPLOADS_CONTAINER}/blobs/"


def uploaded_blob_name(event_type: str, subject: str) -> str | None:
    """The name, within ``uploads``, of the blob a Storage event says was created, or None when
    the event is not a blob created in ``uploads``."""
    if event_type != BLOB_CREATED or not subject.startswith(UPLOAD_SUBJECT_PREFIX):
        return None
    return subject.removeprefix(UPLOAD_SUBJECT_PREFIX) or None


def upload_event_blob_name(body: bytes) -> str | None:
    """The upload an Event Grid event names, from a queue message's body (the event as JSON, in
    the Event Grid schema, as Event Grid writes it to a Storage queue), or None when the body is
    not such an event."""
    try:
        event = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(event, dict):
        return None
    event_type, subject = event.get("eventType"), event.get("subject")
    if not isinstance(event_type, str) or not isinstance(subject, str):
        return None
    return uploaded_blob_name(event_type, subject)


def parse_upload_name(name: str) -> tuple[str, str] | None:
    """``<familyId>/<mediaId>`` (optionally prefixed ``uploads/``) as two canonical ids."""
    parts = name.removeprefix(f"{UPLOADS_CONTAINER}/").split("/")
    if len(parts) != 2:
        return None
    family_id, media_id = (canonical_id(part.lower()) for part in parts)
    if family_id is None or media_id is None or f"{family_id}/{media_id}" != "/".join(parts):
        return None
    return family_id, media_id


def media_options(runtime: Runtime) -> MediaOptions:
    from shared.media import MediaOptions

    settings = runtime.settings
    return MediaOptions(
        photo_max_bytes=settings.media_photo_max_bytes,
        audio_max_bytes=settings.media_audio_max_bytes,
        video_max_bytes=settings.media_video_max_bytes,
        max_pixels=settings.media_max_pixels,
        photo_max_side=settings.media_photo_max_side,
        ffmpeg_timeout_seconds=settings.media_ffmpeg_timeout_seconds,
    )


class MediaProcessor:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.store = runtime.records
        self.blobs = runtime.media_blobs

    # --- entry points -------------------------------------------------------------------------

    def process(self, blob_name: str) -> str:
        """Process one upload; returns what happened, for the log."""
        ids = parse_upload_name(blob_name)
        if ids is None:
            log.warning("upload with an unexpected name ignored", extra={"blob": blob_name})
            return "ignored"
        family_id, media_id = ids
        name = upload_blob_name(family_id, media_id)
        record = self.store.read(family_id, media_id)
        if record is None or record.get("type") != "media" or record.get("deleted"):
            self.blobs.discard_upload(name)
            outcome = "no-record"
        else:
            outcome = self._process(record, name)
        log.info(
            "media upload %s",
            outcome,
            extra={"family_id": family_id, "media_id": media_id, "outcome": outcome},
        )
        return outcome

    def recheck_due(self) -> list[str]:
        """Process again every record waiting for a scan verdict, or whose attempt stalled."""
        due = self.store.media_to_recheck(now_iso(self.runtime.clock()))
        return [self.process(upload_blob_name(row["familyId"], row["id"])) for row in due]

    def sweep_uploads(self) -> list[str]:
        """Process every upload whose event never arrived or was given up on (dead-lettered).

        Each run ends by deleting its upload, so ``uploads`` holds only blobs in flight: one
        older than ``LOST_EVENT_AFTER`` whose record has not started processing was missed.
        Records already ``processing`` are left to ``recheck_due``, which knows when they stall.
        """
        cutoff = self.runtime.clock() - LOST_EVENT_AFTER
        outcomes: list[str] = []
        for blob in self.blobs.uploads():
            ids = parse_upload_name(blob.name)
            if blob.last_modified > cutoff or ids is None:
                continue
            record = self.store.read(*ids)
            if record is not None and record.get("status") == "processing":
                continue
            outcomes.append(self.process(blob.name))
        return outcomes

    # --- one upload ---------------------------------------------------------------------------

    def _process(self, record: dict[str, Any], name: str) -> str:
        upload = self.blobs.upload(name)
        if upload is None:
            if record.get("status") in FINAL_STATUSES:
                return "duplicate"
            if record.get("status") == "processing":
                fields = {
                    "status": "rejected",
                    "rejectedReason": MISSING,
                    "rejectedCode": "missing",
                }
                self._finish(record, "", fields)
                return "rejected"
            return "no-upload"
        lease = UploadLease(self.blobs, name)
        if not lease.acquire(upload.etag):
            return "in-progress"
        try:
            outcome = self._process_leased(record, upload, lease)
        except Exception:
            lease.release()
            raise
        finally:
            lease.stop_renewing()
        lease.release()
        return outcome

    def _process_leased(self, record: dict[str, Any], upload: BlobInfo, lease: UploadLease) -> str:
        etag = upload.etag.strip('"')
        record = self.store.read(record["familyId"], record["id"]) or record
        held = lease.held
        if record.get("status") in FINAL_STATUSES:
            self.blobs.discard_upload(upload.name, upload.etag, held)
            return "duplicate" if record.get("processedEtag") == etag else "discarded"
        too_large = self._too_large(record, upload.size)
        if too_large:
            return self._reject(record, upload, too_large, "too-large", held)
        declared = int(record["sizeBytes"])
        if upload.size != declared:
            reason = not_as_declared(upload.size, declared)
            return self._reject(record, upload, reason, "size-mismatch", held)
        if self.settings.media_malware_scanning:
            waiting = self._scan_verdict(record, upload, held)
            if waiting:
                return waiting
        attempt = self._begin(record, etag)
        if attempt is None:
            return "no-record"
        if attempt > self.settings.media_max_attempts:
            reason = TOO_MANY_ATTEMPTS.format(attempts=attempt - 1)
            return self._reject(record, upload, reason, "too-many-attempts", held)
        try:
            result = self._run_pipeline(record, upload)
        except VersionMismatchError:
            return "superseded"  # a newer upload replaced it; its own event follows
        if result.status == "rejected":
            return self._reject(record, upload, result.reason, result.code, held)
        assert result.status == "ready"
        self._archive(upload)
        self._finish(record, etag, ready_fields(result))
        self.blobs.discard_upload(upload.name, upload.etag, held)
        return "ready"

    def _too_large(self, record: Mapping[str, Any], size: int) -> str | None:
        from shared.media.policy import KIND_NAMES, human_size

        limit = media_options(self.runtime).max_bytes(record["kind"])
        if size <= limit:
            return None
        return (
            f"The file is {human_size(size)}; {KIND_NAMES[record['kind']].lower()} can be at "
            f"most {human_size(limit)}."
        )

    def _scan_verdict(
        self, record: Mapping[str, Any], upload: BlobInfo, lease: Lease
    ) -> str | None:
        verdict = self.blobs.upload_tags(upload.name).get(SCAN_RESULT_TAG)
        if verdict == CLEAN:
            return None
        if verdict is not None:
            return self._reject(record, upload, HARMFUL, "malware", lease)
        now = self.runtime.clock()
        since = (record.get("processing") or {}).get("scanWaitSince") or now_iso(now)
        waited = now - datetime.fromisoformat(since.replace("Z", "+00:00"))
        if waited > timedelta(minutes=self.settings.media_scan_wait_minutes):
            return self._reject(record, upload, NOT_SCANNED, "not-scanned", lease)

        def wait(current: dict[str, Any]) -> dict[str, Any] | None:
            if current.get("status") in FINAL_STATUSES:
                return None
            processing = {
                **(current.get("processing") or {}),
                "scanWaitSince": since,
                "recheckAt": now_iso(now + SCAN_RECHECK),
            }
            return {**current, "status": "processing", "processing": processing}

        self._update(record, wait)
        return "waiting-for-scan"

    def _begin(self, record: Mapping[str, Any], etag: str) -> int | None:
        """Count this attempt on the record before starting it; the attempt's number."""
        settings = self.settings
        stall = timedelta(
            seconds=2 * settings.media_ffmpeg_timeout_seconds
            + settings.media_transcription_timeout_seconds
        )
        now = self.runtime.clock()
        attempts: list[int] = []

        def begin(current: dict[str, Any]) -> dict[str, Any] | None:
            previous = current.get("processing") or {}
            count = int(previous.get("attempts", 0)) + 1 if previous.get("etag") == etag else 1
            attempts.append(count)
            processing = {
                **previous,
                "etag": etag,
                "attempts": count,
                "startedAt": now_iso(now),
                "recheckAt": now_iso(now + stall + STALL_MARGIN),
            }
            return {**current, "status": "processing", "processing": processing}

        if self._update(record, begin) is None:
            return None
        return attempts[-1]

    def _run_pipeline(self, record: Mapping[str, Any], upload: BlobInfo) -> Ready | Rejected:
        from shared.media import process_upload

        engine = self.runtime.transcription_engine() if record["kind"] in RECORDINGS else None
        return process_upload(
            self.blobs.read_upload(upload.name, upload.etag),
            kind=record["kind"],
            content_type=record["contentType"],
            sink=self.blobs.derivatives(),
            name_prefix=upload_blob_name(record["familyId"], record["id"]),
            options=media_options(self.runtime),
            engine=engine,
        )

    def _reject(
        self, record: Mapping[str, Any], upload: BlobInfo, reason: str, code: str, lease: Lease
    ) -> str:
        self._finish(
            record,
            upload.etag.strip('"'),
            {"status": "rejected", "rejectedReason": reason, "rejectedCode": code},
        )
        self.blobs.discard_upload(upload.name, upload.etag, lease)
        return "rejected"

    def _finish(self, record: Mapping[str, Any], etag: str, fields: Mapping[str, Any]) -> None:
        moment = now_iso(self.runtime.clock())

        def finish(current: dict[str, Any]) -> dict[str, Any] | None:
            if current.get("status") in FINAL_STATUSES:
                return None
            done = {k: v for k, v in current.items() if k not in ("processing", "rejectedReason")}
            return {**done, **fields, "processedEtag": etag, "processedAt": moment}

        self._update(record, finish)

    def _archive(self, upload: BlobInfo) -> None:
        """Copy the upload, as it was processed, to ``originals`` (server side)."""
        self.blobs.archive_upload(upload.name, upload.etag)

    # --- the record ---------------------------------------------------------------------------

    def _update(self, record: Mapping[str, Any], change: Change) -> dict[str, Any] | None:
        """Apply ``change`` to the latest version of the record, retrying on a conflict.
        None when the record is gone; the record unchanged when ``change`` declines."""
        for _ in range(UPDATE_RETRIES):
            current = self.store.read(record["familyId"], record["id"])
            if current is None or current.get("deleted"):
                return None
            changed = change(current)
            if changed is None:
                return current
            try:
                return self.store.replace(with_history(current, changed), str(current["_etag"]))
            except VersionMismatchError:
                continue
        raise RuntimeError("the media record kept changing; the upload will be retried")


class UploadLease:
    """A lease on one upload blob, held while one worker processes it and renewed in the
    background every ``LEASE_RENEW_SECONDS``. If the worker dies, renewal stops with it and the
    lease lapses after at most ``LEASE_SECONDS``."""

    def __init__(self, blobs: MediaBlobs, name: str) -> None:
        self.blobs = blobs
        self.name = name
        self._lease: Lease | None = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    @property
    def held(self) -> Lease:
        assert self._lease is not None, "the lease is not held"
        return self._lease

    def acquire(self, etag: str) -> bool:
        """Take the lease on the version ``etag``; False when another worker holds it."""
        self._lease = self.blobs.lease_upload(self.name, etag, LEASE_SECONDS)
        if self._lease is None:
            return False
        self._renewer = threading.Thread(target=self._renew, name="upload-lease", daemon=True)
        self._renewer.start()
        return True

    def _renew(self) -> None:
        while not self._stop.wait(LEASE_RENEW_SECONDS):
            try:
                self.held.renew()
            except StorageError:
                log.warning(
                    "media: lost the lease on an upload being processed",
                    extra={"blob": self.name},
                )
                return

    def stop_renewing(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)

    def release(self) -> None:
        """Give the lease back (a deleted upload has none left to give)."""
        if self._lease is None:
            return
        try:
            self._lease.release()
        except StorageError:
            return


def not_as_declared(size: int, declared: int) -> str:
    """Why an upload of another size than its slot declared is refused, in sizes a person can
    tell apart (exact bytes when both round to the same)."""
    from shared.media.policy import human_size

    shown, expected = human_size(size), human_size(declared)
    if shown == expected:
        shown, expected = f"{size:,} bytes", f"{declared:,} bytes"
    return (
        f"The file uploaded is {shown}, but the upload was requested for {expected}, "
        "so it was not accepted. Please try uploading it again."
    )


def ready_fields(result: Ready) -> dict[str, Any]:
    """What a ``Ready`` result puts on the record (camelCase, as stored)."""
    fields = result.model_dump(mode="json", by_alias=True, exclude_none=True)
    fields.pop("kind", None)
    fields.pop("contentType", None)
    fields["uploadSha256"] = fields.pop("sha256")
    fields["uploadSizeBytes"] = fields.pop("sizeBytes")
    return fields
