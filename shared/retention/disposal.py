"""The disposal run: families past their retention are destroyed, and a certificate outlives them.

A family is disposed of in two stages, each safe to repeat and to resume after a crash:

1. **Withdrawn.** When its ``retainUntil`` (computed again from the current data, never trusted
   from the stored copy) has passed and no ``legalHold`` is set, the family document is marked
   ``deleted`` with a ``disposal`` note, in one conditional replace. From then on it answers 404
   to everyone, no list or export shows it, and every device that syncs it is told (its records
   leave the device's family set, so the next pull sends tombstones for them). Nothing is
   destroyed yet: devices must first learn that the family is gone, and they all have by the
   end of the sync tombstone lifetime (``SYNC_TOMBSTONE_DAYS``; a device offline longer must
   start again from a snapshot, which no longer includes it).
2. **Destroyed**, once that lifetime has passed. The family's audit events are sealed
   (``shared.audit_seal``), then the certificate is written *first* in ``disposals`` (status
   ``destroying``), with what is about to be destroyed counted per type, the sealed audit
   chain's head and whether it verified. Then the family is taken out of its
   members' sign-in links in the directory, and, in batches: every blob under
   ``<familyId>/`` in every media container (uploads, originals, derivatives), every document
   of the family's ``records`` partition but the family document, every audit event of the
   family, and the family document last. The certificate is completed (``complete``, with what
   remained, which is nothing) at the end. A run that crashes anywhere is finished by the next:
   deletes of what is already gone are ignored, the certificate's counts are those taken before
   anything was deleted, and a certificate still ``destroying`` is resumed even when the
   family document is already gone.

Audit events are destroyed with the family: they name the people who read and changed the
child's record, and keeping them would keep personal data past its retention. The certificate
keeps their number and the sealed chain's head, so an export taken earlier can still be shown to
match what was destroyed; the family's audit anchors (immutable, naming no one but the family's
id) outlive it. Copies outside the app's reach expire on their own: Cosmos DB's continuous
backup (30 days), soft-deleted blobs and previous blob versions (the storage account's restore
period, then its lifecycle rule). Applied sync operation results and
invitations expire by their TTL (``SYNC_OPERATION_DAYS``, days) well within the withdrawal
period.

A legal hold stops both stages; a family under hold is reported, not touched. A hold cannot be
set on a family already withdrawn (it answers 404): set it before ``retainUntil`` passes.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from shared.audit_chain import verify_chain
from shared.audit_seal import Sealer
from shared.ports.errors import AlreadyExistsError, StorageError, VersionMismatchError
from shared.ports.runtime import Runtime
from shared.records.family_access import forget_family
from shared.records.store import now_iso
from shared.retention.purge import purge_tombstones
from shared.retention.service import retention
from shared.sign_ins import family_sign_ins, unlink_family
from shared.storage_layout import BLOB_CONTAINERS

log = logging.getLogger("familystory.retention")

BATCH_SIZE = 100
CERTIFICATE_TYPE = "disposalCertificate"
DISPOSAL_ACTOR = {"id": "records-disposal", "name": "Records disposal", "kind": "system"}

Checkpoint = Callable[[str, str, int], None]


@dataclass
class DisposalReport:
    """What one run did, for the log (and the tests)."""

    past_retention: int = 0
    held: int = 0
    not_yet_due: int = 0
    withdrawn: int = 0
    destroyed: int = 0
    resumed: int = 0
    failed: int = 0
    tombstones_purged: int = 0
    certificates: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _no_checkpoint(family_id: str, stage: str, deleted: int) -> None:
    return None


class Partition(Protocol):
    """A store of one partition per family: the records, or the audit events."""

    def ids_page(self, family_id: str, limit: int, keep: str | None = None) -> list[str]: ...

    def delete(self, family_id: str, record_id: str, /) -> bool: ...


class Disposer:
    """``checkpoint(family_id, stage, deleted)`` is called after each batch of deletions (tests
    use it to stop a run midway, as a crash would)."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        batch_size: int = BATCH_SIZE,
        checkpoint: Checkpoint = _no_checkpoint,
    ) -> None:
        self.runtime = runtime
        self.batch_size = batch_size
        self.checkpoint = checkpoint
        self.records = runtime.records
        self.audit = runtime.audit_store
        self.disposals = runtime.disposals
        self.blobs = runtime.media_blobs

    def run(self) -> DisposalReport:
        report = DisposalReport()
        now = self.runtime.clock()
        handled: set[str] = set()
        for family in self.records.families_past_retention(now.date()):
            self._withdraw(family, now, report)
        for family in self.records.families_to_destroy(now_iso(now)):
            handled.add(str(family["id"]))
            self._destroy(str(family["id"]), family, report)
        for certificate in self.disposals.in_progress():
            if str(certificate["id"]) not in handled:
                report.resumed += 1
                self._destroy(str(certificate["id"]), None, report)
        report.tombstones_purged = purge_tombstones(self.records, self.runtime.settings, now)
        log.info("disposal run: %s", report.as_dict(), extra=report.as_dict())
        return report

    # --- stage 1 ------------------------------------------------------------------------------

    def _withdraw(self, family: dict[str, Any], now: datetime, report: DisposalReport) -> None:
        report.past_retention += 1
        family_id = str(family["id"])
        if family.get("legalHold"):
            report.held += 1
            return
        computed = retention(self.runtime, family)
        if not computed.due(now.date()):
            report.not_yet_due += 1
            self._replace(family, computed.fields())
            return
        assert computed.retain_until is not None
        lifetime = timedelta(days=self.runtime.settings.sync_tombstone_days)
        lifetime += timedelta(seconds=self.runtime.settings.sync_overlap_seconds)
        note = {
            "stage": "withdrawn",
            "retentionClass": computed.retention_class,
            "rule": computed.rule,
            "retainUntil": computed.retain_until.isoformat(),
            "withdrawnAt": now_iso(now),
            "destroyAfter": now_iso(now + lifetime),
            "by": DISPOSAL_ACTOR,
        }
        if self._replace(family, {**computed.fields(), "deleted": True, "disposal": note}):
            report.withdrawn += 1
            log.info("family withdrawn for disposal", extra={"familyId": family_id, **note})

    def _replace(self, family: dict[str, Any], changes: Mapping[str, Any]) -> bool:
        if all(family.get(name) == value for name, value in changes.items()):
            return False
        try:
            self.runtime.records.replace({**family, **changes}, str(family["_etag"]))
        except VersionMismatchError:
            return False
        forget_family(self.runtime, str(family["id"]))
        return True

    # --- stage 2 ------------------------------------------------------------------------------

    def _destroy(
        self, family_id: str, family: dict[str, Any] | None, report: DisposalReport
    ) -> None:
        try:
            certificate = self._certificate(family_id, family)
            if certificate is None or certificate.get("status") == "complete":
                return
            self._unlink_members(family_id)
            self._delete_blobs(family_id)
            self._delete_partition(self.records, family_id, "records", keep=family_id)
            self._delete_partition(self.audit, family_id, "audit")
            self._delete_ids(self.records, family_id, [family_id], "family")
            complete = self._complete(certificate)
        except StorageError:
            report.failed += 1
            log.exception("disposal of a family failed; the next run resumes it")
            return
        if complete:
            report.destroyed += 1
            report.certificates.append(family_id)
        else:
            report.failed += 1

    def _certificate(
        self, family_id: str, family: Mapping[str, Any] | None
    ) -> dict[str, Any] | None:
        existing = self.disposals.read(family_id) or {}
        if existing or family is None:
            return existing or None
        note = family.get("disposal") or {}
        runtime = self.runtime
        key = runtime.audit_key
        Sealer(self.audit, runtime.audit_anchors, key, runtime.clock).seal_family(family_id)
        chain = verify_chain(self.audit, runtime.audit_anchors, key, family_id)
        blobs, blob_bytes = self._count_blobs(family_id)
        certificate = {
            "id": family_id,
            "familyId": family_id,
            "type": CERTIFICATE_TYPE,
            "status": "destroying",
            "retentionClass": note.get("retentionClass"),
            "rule": note.get("rule"),
            "retainUntil": note.get("retainUntil"),
            "withdrawnAt": note.get("withdrawnAt"),
            "destroyStartedAt": now_iso(self.runtime.clock()),
            "destroyed": {
                "records": dict(sorted(self._count_types(family_id).items())),
                "auditEvents": chain.events + chain.pending,
                "blobs": blobs,
                "blobBytes": blob_bytes,
                "memberLinks": len(self._linked_identities(family_id)),
            },
            "audit": {
                "head": chain.head.as_dict() if chain.head else None,
                "verified": chain.ok,
                "breaks": chain.problem_count,
                "pending": chain.pending,
            },
            "by": DISPOSAL_ACTOR,
        }
        try:
            return self.disposals.create(certificate)
        except AlreadyExistsError:
            return self.disposals.read(family_id)

    def _complete(self, certificate: dict[str, Any]) -> bool:
        family_id = str(certificate["id"])
        blobs, _ = self._count_blobs(family_id)
        remaining = {
            "records": sum(self._count_types(family_id).values()),
            "auditEvents": self.audit.count(family_id),
            "blobs": sum(blobs.values()),
        }
        body = {k: v for k, v in certificate.items() if not k.startswith("_")}
        body |= {
            "status": "complete" if not any(remaining.values()) else "destroying",
            "completedAt": now_iso(self.runtime.clock()),
            "remaining": remaining,
        }
        self.disposals.replace(body, str(certificate["_etag"]))
        done = not any(remaining.values())
        log.log(
            logging.INFO if done else logging.WARNING,
            "family destroyed" if done else "family not yet wholly destroyed; the next run goes on",
            extra={"familyId": family_id, "remaining": remaining},
        )
        return done

    def _linked_identities(self, family_id: str) -> list[dict[str, Any]]:
        return family_sign_ins(self.runtime.directory, family_id)

    def _unlink_members(self, family_id: str) -> None:
        """Take the family out of every sign-in linked to it (directory), whichever member
        each is linked to; a link left with no family would stay harmless."""
        unlink_family(self.runtime.directory, family_id)
        self.checkpoint(family_id, "links", 0)

    def _delete_partition(
        self, partition: Partition, family_id: str, stage: str, keep: str | None = None
    ) -> None:
        """Delete the family's documents a batch at a time, always re-reading the first batch,
        so the loop ends exactly when nothing (but ``keep``) is left."""
        while True:
            batch = partition.ids_page(family_id, self.batch_size, keep)
            if not batch:
                return
            self._delete_ids(partition, family_id, batch, stage)

    def _delete_ids(self, partition: Partition, family_id: str, ids: list[str], stage: str) -> None:
        for record_id in ids:
            partition.delete(family_id, record_id)
        self.checkpoint(family_id, stage, len(ids))

    def _delete_blobs(self, family_id: str) -> None:
        for container in BLOB_CONTAINERS:
            batch: list[str] = []
            for blob in self.blobs.family_blobs(container, family_id):
                batch.append(blob.name)
                if len(batch) == self.batch_size:
                    self._delete_blob_batch(container, family_id, batch)
                    batch = []
            if batch:
                self._delete_blob_batch(container, family_id, batch)

    def _delete_blob_batch(self, container: str, family_id: str, names: list[str]) -> None:
        for name in names:
            self.blobs.delete_blob(container, name)
        self.checkpoint(family_id, "blobs", len(names))

    # --- counting -----------------------------------------------------------------------------

    def _count_types(self, family_id: str) -> Counter[str]:
        return Counter(self.records.record_types(family_id))

    def _count_blobs(self, family_id: str) -> tuple[dict[str, int], int]:
        counts: dict[str, int] = {}
        size = 0
        for container in BLOB_CONTAINERS:
            counts[container] = 0
            for blob in self.blobs.family_blobs(container, family_id):
                counts[container] += 1
                size += blob.size
        return counts, size
