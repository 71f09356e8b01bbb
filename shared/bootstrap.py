"""The composition root: builds the real adapters once per process, lazily, and hands services
the ports (``shared.ports.Runtime``). Nothing below the edge imports it.

Every adapter, and the SDK under it, is imported the first time something uses it, so a cold
start pays only for what its first request touches.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from cachetools import TTLCache

if TYPE_CHECKING:
    from shared.adapters.blob_links import BlobLinks
    from shared.adapters.blobs import BlobServiceClient
    from shared.adapters.cosmos import CosmosClient, DatabaseProxy
    from shared.audit import AuditLog
    from shared.caller_limits import CallerLimits
    from shared.errors import DependencyUnavailableError
    from shared.identity import TokenValidator
    from shared.media.transcription import TranscriptionEngine
    from shared.opaque import TokenSigner
    from shared.ports import (
        AuditAnchors,
        AuditStore,
        Counters,
        Directory,
        Disposals,
        HealthProbe,
        MediaBlobs,
        Operations,
        PartnerGrants,
        RecordStore,
        SealKey,
    )
    from shared.ports.evaluation import CaseActivity, EvaluationStore
    from shared.reminders.ports import ClaimStore, MemberSource, VisitSource
    from shared.services.health import HealthMonitor
    from shared.settings import Settings
    from shared.sms import SmsSender, SmsTemplates

FAMILY_CACHE_SECONDS = 15
PROFILE_CACHE_SECONDS = 30


def utc_now() -> datetime:
    return datetime.now(UTC)


class Runtime:
    """The process's adapters and caches. Caches are short-lived and per instance:
    a family's allocation or a caller's teams may be up to 15 s / 30 s stale on an instance
    that did not make the change."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime] = utc_now) -> None:
        self.settings = settings
        self.clock = clock
        self.family_cache: TTLCache[str, dict[str, Any]] = TTLCache(4096, FAMILY_CACHE_SECONDS)
        self.profile_cache: TTLCache[str, dict[str, Any]] = TTLCache(4096, PROFILE_CACHE_SECONDS)
        self.sync_cache: TTLCache[str, bool] = TTLCache(4096, 3600)
        self.cache_lock = threading.Lock()

    # --- the edge -----------------------------------------------------------------------------

    @cached_property
    def token_validator(self) -> TokenValidator:
        from shared.identity import TokenValidator, entra_issuers

        issuers = entra_issuers(self.settings)
        if self.settings.dev_issuer_enabled:
            from shared.dev_issuer import dev_issuers

            issuers += dev_issuers(self.settings)
        return TokenValidator(issuers, self.settings.token_leeway_seconds)

    @cached_property
    def caller_limits(self) -> CallerLimits:
        from shared.caller_limits import CallerLimits
        from shared.rate_limit import RateLimiter

        limiter = RateLimiter(self.counters, lambda: self.clock())
        return CallerLimits(limiter, self.settings, self.audit)

    # --- SDK clients --------------------------------------------------------------------------

    @cached_property
    def cosmos_client(self) -> CosmosClient:
        from shared.adapters.cosmos import build_cosmos_client

        return build_cosmos_client(self.settings)

    @cached_property
    def database(self) -> DatabaseProxy:
        return self.cosmos_client.get_database_client(self.settings.cosmos_database)

    @cached_property
    def blob_service(self) -> BlobServiceClient:
        from shared.adapters.blobs import build_blob_service

        return build_blob_service(self.settings)

    # --- Cosmos DB ports ----------------------------------------------------------------------

    @cached_property
    def records(self) -> RecordStore:
        from shared.adapters.cosmos_records import CosmosRecords

        return CosmosRecords.from_database(self.database)

    @cached_property
    def audit_store(self) -> AuditStore:
        from shared.adapters.cosmos_audit import CosmosAudit

        return CosmosAudit.from_database(self.database)

    @cached_property
    def audit(self) -> AuditLog:
        from shared.audit import AuditLog

        return AuditLog(self.audit_store, lambda: self.clock())

    @cached_property
    def audit_key(self) -> SealKey:
        from shared.audit_seal import load_seal_key

        return load_seal_key(self.settings)

    @cached_property
    def directory(self) -> Directory:
        from shared.adapters.cosmos_directory import CosmosDirectory

        return CosmosDirectory.from_database(self.database)

    @cached_property
    def counters(self) -> Counters:
        from shared.adapters.cosmos_directory import CosmosCounters

        return CosmosCounters.from_database(self.database)

    @cached_property
    def operations(self) -> Operations:
        from shared.adapters.cosmos_operations import CosmosOperations

        return CosmosOperations.from_database(self.database)

    @cached_property
    def partner_grants(self) -> PartnerGrants:
        from shared.adapters.cosmos_partners import CosmosPartnerGrants

        return CosmosPartnerGrants.from_database(self.database)

    @cached_property
    def disposals(self) -> Disposals:
        from shared.adapters.cosmos_disposals import CosmosDisposals

        return CosmosDisposals.from_database(self.database)

    @cached_property
    def claim_store(self) -> ClaimStore:
        from shared.adapters.cosmos_claims import CosmosClaimStore

        return CosmosClaimStore.from_database(self.database)

    @cached_property
    def visits(self) -> VisitSource:
        from shared.adapters.cosmos_reminder_sources import CosmosVisitSource

        return CosmosVisitSource.from_database(self.database)

    @cached_property
    def members(self) -> MemberSource:
        from shared.adapters.cosmos_reminder_sources import CosmosMemberSource

        return CosmosMemberSource.from_database(self.database)

    @cached_property
    def evaluation_store(self) -> EvaluationStore:
        from shared.adapters.cosmos_evaluation import CosmosEvaluationStore

        return CosmosEvaluationStore.from_database(self.database)

    @cached_property
    def case_activity(self) -> CaseActivity:
        from shared.adapters.cosmos_evaluation import CosmosCaseActivity

        return CosmosCaseActivity.from_database(self.database)

    @cached_property
    def signer(self) -> TokenSigner:
        from shared.opaque import TokenSigner, load_or_create_key

        return TokenSigner(load_or_create_key(self.directory))

    # --- Blob Storage ports -------------------------------------------------------------------

    @cached_property
    def media_blobs(self) -> MediaBlobs:
        from shared.adapters.blob_media import AzureMediaBlobs

        return AzureMediaBlobs(self.blob_service)

    @cached_property
    def audit_anchors(self) -> AuditAnchors:
        from shared.adapters.blob_anchors import BlobAnchors

        return BlobAnchors(self.blob_service)

    @cached_property
    def blob_links(self) -> BlobLinks:
        from shared.adapters.blob_links import BlobLinks

        return BlobLinks(self.blob_service, lambda: self.clock())

    @property
    def health_probes(self) -> Mapping[str, HealthProbe]:
        """Cosmos DB and Blob Storage, asked for real; the clients are built on first use."""
        return {
            "cosmos": lambda timeout: self.database.read(timeout=timeout),
            "storage": lambda timeout: self.blob_service.get_service_properties(timeout=timeout),
        }

    @cached_property
    def health(self) -> HealthMonitor:
        """What ``/health`` answers: the accounts answer (one round per instance per
        ``HEALTH_CACHE_SECONDS`` at most)."""
        from shared.services.health import HealthMonitor

        return HealthMonitor(lambda: self.health_probes, self.settings.health_cache_seconds)

    @cached_property
    def readiness(self) -> HealthMonitor:
        """What ``/health/ready`` answers: every container the app uses answers its reads."""
        from shared.adapters.health import readiness_probes
        from shared.services.health import HealthMonitor

        return HealthMonitor(
            lambda: readiness_probes(self.database, self.blob_service),
            self.settings.health_cache_seconds,
        )

    # --- texts and speech ---------------------------------------------------------------------

    @cached_property
    def sms_sender(self) -> SmsSender:
        """ACS in Azure (identity), a local ACS test server, or the local outbox file."""
        from functools import partial
        from pathlib import Path

        from shared.adapters.sms import build_sms_sender
        from shared.adapters.transport import build_transport

        settings = self.settings
        return build_sms_sender(
            sender_id=settings.sms_sender_id,
            acs_endpoint=settings.sms_acs_endpoint,
            acs_connection_string=settings.sms_acs_connection_string or None,
            acs_ca_certificate=settings.sms_acs_ca_certificate or None,
            managed_identity_client_id=settings.azure_client_id or None,
            outbox_path=Path(settings.sms_outbox_path),
            transport=partial(build_transport, settings),
        )

    @cached_property
    def sms_templates(self) -> SmsTemplates:
        """The borough's texts in each language it has them in; an empty template setting
        means the default text."""
        from shared.sms import SmsTemplates
        from shared.sms.languages import borough_languages
        from shared.sms.templates import DEFAULT_CANCELLATION, DEFAULT_REMINDER

        settings = self.settings
        return SmsTemplates(
            service_name=settings.sms_service_name,
            reminder=settings.sms_reminder_template or DEFAULT_REMINDER,
            cancellation=settings.sms_cancellation_template or DEFAULT_CANCELLATION,
            languages=borough_languages(settings.sms_languages, settings.sms_language_templates),
        )

    def transcription_engine(self) -> TranscriptionEngine | None:
        """A fresh engine per recording: Azure AI Speech, PocketSphinx, or none."""
        from shared.media import Ffmpeg, PocketsphinxEngine

        settings = self.settings
        ffmpeg = Ffmpeg(timeout_seconds=settings.media_ffmpeg_timeout_seconds)
        if settings.media_transcription_engine == "azure-speech":
            from shared.adapters.azure_speech import AzureSpeechEngine
            from shared.adapters.transport import build_transport

            locales = tuple(x.strip() for x in settings.speech_locales.split(",") if x.strip())
            return AzureSpeechEngine(
                settings.speech_endpoint,
                locales=locales or ("en-GB",),
                managed_identity_client_id=settings.azure_client_id or None,
                ffmpeg=ffmpeg,
                max_seconds=settings.media_transcription_max_seconds,
                timeout_seconds=settings.media_transcription_timeout_seconds,
                transport=build_transport(settings, connections=1),
            )
        if settings.media_transcription_engine == "pocketsphinx":
            return PocketsphinxEngine(
                ffmpeg,
                max_seconds=settings.media_transcription_max_seconds,
                timeout_seconds=settings.media_transcription_timeout_seconds,
            )
        return None


_lock = threading.Lock()
_runtime: Runtime | None = None


def get_runtime() -> Runtime:
    global _runtime
    from shared.settings import get_settings

    with _lock:
        if _runtime is None:
            _runtime = Runtime(get_settings())
        return _runtime


def reset_runtime() -> None:
    """Forget the process's runtime and settings (tests that change settings)."""
    global _runtime
    from shared.settings import get_settings

    with _lock:
        _runtime = None
    get_settings.cache_clear()


def start_telemetry() -> None:
    """Telemetry on when a destination is configured; installed by the first invocation."""
    from shared import telemetry

    def install(destination: telemetry.Destination) -> None:
        from shared.adapters.telemetry import install as install_pipeline

        install_pipeline(destination)

    telemetry.start(install)


def as_dependency_error(error: BaseException) -> DependencyUnavailableError | None:
    """The outage an exception that reached the edge stands for (503 with Retry-After), or None
    when it is a bug. Adapters raise outages as ``StorageUnavailableError`` already; this names
    the rest (an SDK client that could not be built), which only the adapters can recognise."""
    from shared.adapters.faults import as_dependency_error as outage

    return outage(error)
