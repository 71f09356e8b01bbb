"""A ``Runtime`` of in-memory ports at a frozen clock: what a service sees, without Azure.

Every port shares the clock, so ``_ts``, TTLs, leases and the services' own ``now`` agree, and
a test moves time for all of them at once (``runtime.clock.advance``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cachetools import TTLCache

from shared.audit import AuditLog
from shared.bootstrap import FAMILY_CACHE_SECONDS, PROFILE_CACHE_SECONDS
from shared.media.transcription import TranscriptionEngine
from shared.opaque import TokenSigner
from shared.ports.audit import SealKey
from shared.ports.runtime import HealthProbe
from shared.reminders.memory import FrozenClock, InMemoryClaimStore
from shared.reminders.models import Member, Visit
from shared.settings import Settings, get_settings
from shared.sms.memory import MemorySmsSender
from shared.sms.templates import SmsTemplates
from tests.fakes.audit import InMemoryAnchors, InMemoryAudit
from tests.fakes.blobs import FakeBlobLinks, InMemoryMediaBlobs
from tests.fakes.directory import InMemoryCounters, InMemoryDirectory
from tests.fakes.disposals import InMemoryDisposals
from tests.fakes.evaluation import InMemoryEvaluationStore, RecordsCaseActivity
from tests.fakes.operations import InMemoryOperations
from tests.fakes.partners import InMemoryPartnerGrants
from tests.fakes.records import InMemoryRecords

START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


class RecordsReminderSources:
    """Visits and members for the reminder run, read from the in-memory records."""

    def __init__(self, records: InMemoryRecords) -> None:
        self.records = records

    def visits_starting_between(self, start: datetime, end: datetime) -> list[Visit]:
        visits = [
            Visit.model_validate(d)
            for d in self.records.documents.all()
            if d.get("type") == "visit" and d.get("deleted") is False
        ]
        return [v for v in visits if start < v.starts_at <= end]

    def members_of(self, family_id: str) -> list[Member]:
        return [
            Member.model_validate({**d, "smsReminders": bool(d.get("smsReminders"))})
            for d in self.records.documents.all(family_id)
            if d.get("type") == "member" and d.get("deleted") is False
        ]


class FakeRuntime:
    def __init__(self, now: datetime = START, **settings: Any) -> None:
        self.clock = FrozenClock(now)
        self.settings: Settings = get_settings().model_copy(update=settings)
        self.records = InMemoryRecords(self.clock)
        self.partner_grants = InMemoryPartnerGrants(self.records)
        self.audit_store = InMemoryAudit(self.clock)
        self.audit = AuditLog(self.audit_store, self.clock)
        self.audit_anchors = InMemoryAnchors()
        self.audit_key = SealKey(b"fake-runtime-audit-seal-key-32-bytes")
        self.directory = InMemoryDirectory(self.clock)
        self.counters = InMemoryCounters(self.clock)
        self.operations = InMemoryOperations(self.clock)
        self.disposals = InMemoryDisposals(self.clock)
        self.evaluation_store = InMemoryEvaluationStore(self.clock)
        self.case_activity = RecordsCaseActivity(self.records, self.audit_store)
        self.media_blobs = InMemoryMediaBlobs(self.clock)
        self.blob_links = FakeBlobLinks(self.clock)
        self.signer = TokenSigner(b"fake-runtime-signing-key-32bytes")
        self.sms_sender = MemorySmsSender()
        self.sms_templates = SmsTemplates(service_name="Family Support")
        self.claim_store = InMemoryClaimStore()
        sources = RecordsReminderSources(self.records)
        self.visits = sources
        self.members = sources
        timer = self._seconds
        self.family_cache: TTLCache[str, dict[str, Any]] = TTLCache(
            4096, FAMILY_CACHE_SECONDS, timer=timer
        )
        self.profile_cache: TTLCache[str, dict[str, Any]] = TTLCache(
            4096, PROFILE_CACHE_SECONDS, timer=timer
        )
        self.sync_cache: TTLCache[str, bool] = TTLCache(4096, 3600, timer=timer)
        self.cache_lock = threading.Lock()
        self.engine: TranscriptionEngine | None = None

    @property
    def health_probes(self) -> Mapping[str, HealthProbe]:
        return {"cosmos": lambda timeout: None, "storage": lambda timeout: None}

    def transcription_engine(self) -> TranscriptionEngine | None:
        return self.engine

    def _seconds(self) -> float:
        return self.clock().timestamp()
