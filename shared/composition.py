"""The composition root: builds the real adapters once per process, lazily."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from cachetools import TTLCache

if TYPE_CHECKING:
    from azure.cosmos import CosmosClient, DatabaseProxy
    from azure.storage.blob import BlobServiceClient

    from shared.adapters.blob_links import BlobLinks
    from shared.audit import AuditLog
    from shared.caller_limits import CallerLimits
    from shared.directory import Directory
    from shared.identity import TokenValidator
    from shared.opaque import TokenSigner
    from shared.records.store import RecordStore
    from shared.reminders.cosmos import CosmosClaimStore
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

    @cached_property
    def token_validator(self) -> TokenValidator:
        from shared.identity import TokenValidator, entra_issuers

        issuers = entra_issuers(self.settings)
        if self.settings.dev_issuer_enabled:
            from shared.dev_issuer import dev_issuers

            issuers += dev_issuers(self.settings)
        return TokenValidator(issuers, self.settings.token_leeway_seconds)

    @cached_property
    def cosmos_client(self) -> CosmosClient:
        from shared.adapters.cosmos import build_cosmos_client

        return build_cosmos_client(self.settings)

    @cached_property
    def database(self) -> DatabaseProxy:
        return self.cosmos_client.get_database_client(self.settings.cosmos_database)

    @cached_property
    def records(self) -> RecordStore:
        from shared.records.store import RecordStore

        return RecordStore(self.database)

    @cached_property
    def directory(self) -> Directory:
        from shared.directory import Directory

        return Directory(self.database)

    @cached_property
    def audit(self) -> AuditLog:
        from shared.audit import AuditLog

        return AuditLog(self.database, lambda: self.clock())

    @cached_property
    def caller_limits(self) -> CallerLimits:
        from shared.caller_limits import CallerLimits
        from shared.rate_limit import CosmosCounters, RateLimiter

        limiter = RateLimiter(CosmosCounters(self.directory.container), lambda: self.clock())
        return CallerLimits(limiter, self.settings, self.audit)

    @cached_property
    def signer(self) -> TokenSigner:
        from shared.opaque import TokenSigner, load_or_create_key

        return TokenSigner(load_or_create_key(self.database))

    @cached_property
    def blob_service(self) -> BlobServiceClient:
        from shared.adapters.blobs import build_blob_service

        return build_blob_service(self.settings)

    @cached_property
    def blob_links(self) -> BlobLinks:
        from shared.adapters.blob_links import BlobLinks

        return BlobLinks(self.blob_service, self.clock)

    @cached_property
    def sms_sender(self) -> SmsSender:
        """ACS in Azure (identity), a local ACS test server, or the local outbox file."""
        from pathlib import Path

        from shared.sms import build_sms_sender

        settings = self.settings
        return build_sms_sender(
            sender_id=settings.sms_sender_id,
            acs_endpoint=settings.sms_acs_endpoint,
            acs_connection_string=settings.sms_acs_connection_string or None,
            acs_ca_certificate=settings.sms_acs_ca_certificate or None,
            managed_identity_client_id=settings.azure_client_id or None,
            outbox_path=Path(settings.sms_outbox_path),
        )

    @cached_property
    def sms_templates(self) -> SmsTemplates:
        """The borough's texts; an empty template setting means the default text."""
        from shared.sms import SmsTemplates
        from shared.sms.templates import DEFAULT_CANCELLATION, DEFAULT_REMINDER

        settings = self.settings
        return SmsTemplates(
            service_name=settings.sms_service_name,
            reminder=settings.sms_reminder_template or DEFAULT_REMINDER,
            cancellation=settings.sms_cancellation_template or DEFAULT_CANCELLATION,
        )

    @cached_property
    def claim_store(self) -> CosmosClaimStore:
        from shared.reminders.cosmos import CosmosClaimStore

        return CosmosClaimStore.from_database(self.database)


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
