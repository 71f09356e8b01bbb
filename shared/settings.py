"""Every app setting the code reads, with its type and default.

Each field's alias is the exact app-setting name. Its ``scope`` says where it is set:

- ``azure``: the Bicep sets it; the app cannot run in Azure without it (or with its default).
- ``both``: may be set anywhere; the default is the safe choice.
- ``local``: only for the local emulators and the development issuer; the Bicep never sets it.

``local.settings.example.json`` lists every name here, and the infrastructure tests compare the
Bicep app settings with the ``azure`` and ``both`` names, so code and infrastructure never drift.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Scope = Literal["azure", "both", "local"]


def setting(alias: str, default: Any, scope: Scope, description: str) -> Any:
    return Field(
        default=default,
        alias=alias,
        description=description,
        json_schema_extra={"scope": scope},
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    cosmos_endpoint: str = setting(
        "COSMOS__accountEndpoint", "", "azure", "Cosmos DB account endpoint (identity auth)."
    )
    cosmos_database: str = setting(
        "COSMOS_DATABASE", "familystory", "both", "Cosmos DB database name."
    )
    cosmos_key: str | None = setting(
        "COSMOS__accountKey", None, "local", "Emulator key; in Azure the managed identity is used."
    )
    cosmos_ca_certificate: str | None = setting(
        "COSMOS__caCertificate", None, "local", "CA certificate file the emulator serves TLS with."
    )
    cosmos_connect_timeout_seconds: float = setting(
        "COSMOS_CONNECT_TIMEOUT_SECONDS", 5.0, "both", "Time allowed to connect to Cosmos DB."
    )
    cosmos_read_timeout_seconds: float = setting(
        "COSMOS_READ_TIMEOUT_SECONDS",
        10.0,
        "both",
        "Time allowed for a Cosmos DB answer (the SDK's default is 65 s).",
    )
    cosmos_retry_total: int = setting(
        "COSMOS_RETRY_TOTAL", 3, "both", "Cosmos DB retries of one request before a 503."
    )

    media_storage_blob_uri: str = setting(
        "MEDIA_STORAGE__blobServiceUri", "", "azure", "Blob endpoint of the media storage account."
    )
    media_storage_queue_uri: str = setting(
        "MEDIA_STORAGE__queueServiceUri",
        "",
        "azure",
        "Queue endpoint of the media storage account (the upload events queue).",
    )
    media_storage_connection_string: str | None = setting(
        "MEDIA_STORAGE", None, "local", "Azurite connection string; in Azure identity is used."
    )
    storage_connect_timeout_seconds: float = setting(
        "STORAGE_CONNECT_TIMEOUT_SECONDS", 5.0, "both", "Time allowed to connect to Blob Storage."
    )
    storage_read_timeout_seconds: float = setting(
        "STORAGE_READ_TIMEOUT_SECONDS",
        20.0,
        "both",
        "Time allowed for each Blob Storage read (the SDK's default is 60 s).",
    )
    storage_retry_total: int = setting(
        "STORAGE_RETRY_TOTAL", 3, "both", "Blob Storage retries of one request before a 503."
    )

    staff_tenant_id: str = setting(
        "AUTH_STAFF_TENANT_ID", "", "azure", "Workforce Entra ID tenant id of the borough's staff."
    )
    staff_audience: str = setting(
        "AUTH_STAFF_AUDIENCE", "", "azure", "Application (client) id of the staff API registration."
    )
    family_tenant_id: str = setting(
        "AUTH_FAMILY_TENANT_ID", "", "azure", "Entra External ID tenant id for family members."
    )
    family_audience: str = setting(
        "AUTH_FAMILY_AUDIENCE",
        "",
        "azure",
        "Application (client) id of the family app registration.",
    )
    jwks_cache_seconds: int = setting(
        "AUTH_JWKS_CACHE_SECONDS", 3600, "both", "How long signing keys are cached."
    )
    token_leeway_seconds: int = setting(
        "AUTH_LEEWAY_SECONDS", 60, "both", "Clock skew allowed on exp and nbf."
    )
    dev_issuer_enabled: bool = setting(
        "AUTH_DEV_ISSUER_ENABLED", False, "local", "Accept tokens of the local development issuer."
    )
    dev_issuer_key_file: str = setting(
        "AUTH_DEV_ISSUER_KEY_FILE",
        ".local/dev-issuer-key.pem",
        "local",
        "Private key of the development issuer, generated on first use.",
    )

    sms_acs_endpoint: str = setting(
        "SMS_ACS_ENDPOINT", "", "azure", "Azure Communication Services endpoint; empty: outbox."
    )
    sms_sender_id: str = setting(
        "SMS_SENDER_ID", "FamilyStory", "azure", "Registered alphanumeric sender (11 chars max)."
    )
    sms_service_name: str = setting(
        "SMS_SERVICE_NAME", "Family Support", "azure", "The service's name as families know it."
    )
    sms_reminder_template: str = setting(
        "SMS_REMINDER_TEMPLATE", "", "both", "Reminder text template; empty: the default."
    )
    sms_cancellation_template: str = setting(
        "SMS_CANCELLATION_TEMPLATE", "", "both", "Cancellation text template; empty: the default."
    )
    sms_languages: str = setting(
        "SMS_LANGUAGES",
        "en,pl,ro",
        "both",
        "Languages of the shipped texts families may get (BCP 47, comma-separated); others: en.",
    )
    sms_language_templates: str = setting(
        "SMS_LANGUAGE_TEMPLATES",
        "",
        "both",
        "The borough's own texts per language, as JSON (README, Texts in the family's language).",
    )
    sms_outbox_path: str = setting(
        "SMS_OUTBOX_PATH", ".local/outbox/sms.jsonl", "local", "Where local texts are written."
    )
    sms_acs_connection_string: str | None = setting(
        "SMS_ACS_CONNECTION_STRING", None, "local", "Key-based ACS connection (test servers)."
    )
    sms_acs_ca_certificate: str | None = setting(
        "SMS_ACS_CA_CERTIFICATE", None, "local", "CA certificate of a local ACS test server."
    )
    reminder_schedule: str = setting(
        "REMINDER_SCHEDULE", "0 */5 * * * *", "both", "NCRONTAB schedule of the reminder run."
    )
    reminder_windows: str = setting(
        "REMINDER_WINDOWS", "24h,2h", "both", "How long before a visit reminders go."
    )
    reminder_quiet_hours: str = setting(
        "REMINDER_QUIET_HOURS", "20:00-08:00", "both", "No texts then (Europe/London); empty: none."
    )
    reminder_max_attempts: int = setting(
        "REMINDER_MAX_ATTEMPTS", 3, "both", "Sends tried per reminder before it fails for good."
    )
    safety_duty_phone: str = setting(
        "SAFETY_DUTY_PHONE",
        "",
        "azure",
        "UK mobile of the duty team, texted when no one acknowledges a safety alert in time.",
    )
    safety_ack_minutes: int = setting(
        "SAFETY_ACK_MINUTES",
        15,
        "both",
        "Minutes staff have to acknowledge a safety alert before the duty team is texted.",
    )
    safety_schedule: str = setting(
        "SAFETY_SCHEDULE",
        "0 * * * * *",
        "both",
        "NCRONTAB schedule of the safety alert follow-up (retries, escalation).",
    )
    safety_alerts_per_hour: int = setting(
        "SAFETY_ALERTS_PER_HOUR",
        3,
        "both",
        "Alerts of one family member per hour that text staff; later ones are recorded only.",
    )
    safety_max_attempts: int = setting(
        "SAFETY_MAX_ATTEMPTS",
        30,
        "both",
        "Sends tried per safety text (one a follow-up run) before it fails for good.",
    )
    words_ack_days: int = setting(
        "WORDS_ACK_DAYS",
        5,
        "both",
        "Days after which an unacknowledged words entry is listed for team managers.",
    )

    evaluation_min_count: int = setting(
        "EVALUATION_MIN_COUNT",
        5,
        "both",
        "Pilot evaluation: counts from 1 below this show as null (suppressed); 0 turns it off.",
    )

    sync_tombstone_days: int = setting(
        "SYNC_TOMBSTONE_DAYS", 90, "both", "Tombstone lifetime; longer than any offline period."
    )
    sync_overlap_seconds: int = setting(
        "SYNC_OVERLAP_SECONDS", 120, "both", "Changes re-sent by each pull, against write races."
    )
    sync_operation_days: int = setting(
        "SYNC_OPERATION_DAYS", 30, "both", "How long applied sync operation results are kept."
    )

    rate_limit_window_seconds: int = setting(
        "RATE_LIMIT_WINDOW_SECONDS", 300, "both", "Seconds in a caller's rate-limit window."
    )
    rate_limit_family_writes: int = setting(
        "RATE_LIMIT_FAMILY_WRITES",
        150,
        "both",
        "Writes a family member may make per window (each sync push operation counts).",
    )
    rate_limit_staff_writes: int = setting(
        "RATE_LIMIT_STAFF_WRITES", 1500, "both", "Writes a staff member may make per window."
    )
    rate_limit_family_reads: int = setting(
        "RATE_LIMIT_FAMILY_READS", 600, "both", "Reads a family member may make per window."
    )
    rate_limit_staff_reads: int = setting(
        "RATE_LIMIT_STAFF_READS", 6000, "both", "Reads a staff member may make per window."
    )
    rate_limit_partner_writes: int = setting(
        "RATE_LIMIT_PARTNER_WRITES",
        150,
        "both",
        "Writes a partner agency's professional may make per window.",
    )
    rate_limit_partner_reads: int = setting(
        "RATE_LIMIT_PARTNER_READS",
        600,
        "both",
        "Reads a partner agency's professional may make per window.",
    )

    audit_seal_key: str = setting(
        "AUDIT_SEAL_KEY",
        "",
        "azure",
        "Key of the audit seals' HMAC: a Key Vault reference in Azure.",
    )
    audit_seal_key_file: str = setting(
        "AUDIT_SEAL_KEY_FILE",
        "",
        "local",
        "Stand-in for AUDIT_SEAL_KEY: a key file, generated on first use.",
    )
    audit_seal_schedule: str = setting(
        "AUDIT_SEAL_SCHEDULE",
        "0 * * * * *",
        "both",
        "NCRONTAB schedule of the audit sealing run.",
    )

    retention_default_years: int = setting(
        "RETENTION_DEFAULT_YEARS", 25, "both", "Years after closure a default-class family is kept."
    )
    disposal_schedule: str = setting(
        "DISPOSAL_SCHEDULE", "0 30 2 * * *", "azure", "NCRONTAB schedule of the disposal run."
    )

    partner_max_days: int = setting(
        "PARTNER_MAX_DAYS",
        183,
        "both",
        "Longest a partner agency's grant may run, in days from when it is made or changed.",
    )

    media_photo_max_bytes: int = setting(
        "MEDIA_PHOTO_MAX_BYTES", 25 * 1024 * 1024, "both", "Largest photo upload, in bytes."
    )
    media_audio_max_bytes: int = setting(
        "MEDIA_AUDIO_MAX_BYTES", 200 * 1024 * 1024, "both", "Largest audio upload, in bytes."
    )
    media_video_max_bytes: int = setting(
        "MEDIA_VIDEO_MAX_BYTES", 1024 * 1024 * 1024, "both", "Largest video upload, in bytes."
    )
    media_max_pixels: int = setting(
        "MEDIA_MAX_PIXELS", 50_000_000, "both", "Largest photo, in pixels (decompression bombs)."
    )
    media_photo_max_side: int = setting(
        "MEDIA_PHOTO_MAX_SIDE", 2560, "both", "Longest side of a served photo, in pixels."
    )
    media_ffmpeg_timeout_seconds: float = setting(
        "MEDIA_FFMPEG_TIMEOUT_SECONDS", 600.0, "both", "Time limit of one ffmpeg run."
    )
    media_transcription_engine: Literal["pocketsphinx", "azure-speech", "none"] = setting(
        "MEDIA_TRANSCRIPTION_ENGINE",
        "pocketsphinx",
        "azure",
        "Speech to text: azure-speech in Azure, pocketsphinx (offline) locally, or none.",
    )
    speech_endpoint: str = setting(
        "SPEECH__endpoint", "", "azure", "Custom-domain endpoint of Azure AI Speech."
    )
    speech_locales: str = setting(
        "SPEECH_LOCALES", "en-GB", "both", "Comma-separated locales Azure AI Speech listens for."
    )
    media_transcription_max_seconds: float = setting(
        "MEDIA_TRANSCRIPTION_MAX_SECONDS", 7200.0, "both", "Longest stretch of speech transcribed."
    )
    media_transcription_timeout_seconds: float = setting(
        "MEDIA_TRANSCRIPTION_TIMEOUT_SECONDS", 600.0, "both", "Time limit of one transcription."
    )
    media_max_attempts: int = setting(
        "MEDIA_MAX_ATTEMPTS", 3, "both", "Processing attempts per upload before it is rejected."
    )
    media_upload_url_minutes: int = setting(
        "MEDIA_UPLOAD_URL_MINUTES", 15, "both", "Lifetime of an upload URL (15 at most)."
    )
    media_download_url_minutes: int = setting(
        "MEDIA_DOWNLOAD_URL_MINUTES", 5, "both", "Lifetime of a download URL (5 at most)."
    )
    media_malware_scanning: bool = setting(
        "MEDIA_MALWARE_SCANNING",
        False,
        "azure",
        "Defender for Storage scans uploads: media is ready only once found clean.",
    )
    media_scan_wait_minutes: int = setting(
        "MEDIA_SCAN_WAIT_MINUTES", 60, "both", "How long to wait for a scan verdict."
    )

    python_threadpool_thread_count: int | None = setting(
        "PYTHON_THREADPOOL_THREAD_COUNT",
        None,
        "azure",
        "Threads the Python worker runs functions on; the Bicep sets the HTTP concurrency per "
        "instance to match, and the SDK connection pools are sized from it. Unset: the worker's "
        "default, min(32, CPUs + 4).",
    )
    outbound_proxy_url: str = setting(
        "OUTBOUND_PROXY_URL",
        "",
        "both",
        "Proxy for every call to Azure services (no credentials in it); empty: none. Proxy "
        "variables in the environment are never read.",
    )

    azure_client_id: str | None = setting(
        "AZURE_CLIENT_ID", None, "azure", "Client id of the app's user-assigned managed identity."
    )
    log_level: str = setting("LOG_LEVEL", "INFO", "both", "Python log level of the app's loggers.")

    # Read straight from the environment by shared.telemetry (a cold start loads no pydantic);
    # declared here so that they are documented and checked against the Bicep like the rest.
    appinsights_connection_string: str = setting(
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        "",
        "azure",
        "Application Insights the host and the app send telemetry to (managed identity auth).",
    )
    otlp_endpoint: str = setting(
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "",
        "both",
        "OTLP/HTTP collector that also receives the telemetry; empty: none (locally: off).",
    )
    telemetry_sampling_ratio: float = setting(
        "TELEMETRY_SAMPLING_RATIO",
        0.25,
        "both",
        "Share of successful invocations whose trace is exported; failed ones always are.",
    )
    health_cache_seconds: float = setting(
        "HEALTH_CACHE_SECONDS",
        10.0,
        "both",
        "How long an instance reuses its dependency checks for /health and /health/ready.",
    )

    @property
    def dev_issuer_key_path(self) -> Path:
        return Path(self.dev_issuer_key_file)

    @field_validator("python_threadpool_thread_count", mode="before")
    @classmethod
    def _thread_count(cls, value: Any) -> int | None:
        """Read as the worker reads it: a whole number from 1 up, anything else the default."""
        try:
            count = int(str(value).strip()) if value is not None else 0
        except ValueError:
            return None
        return count if count >= 1 else None

    @property
    def worker_threads(self) -> int:
        """Functions the worker runs at once: the setting, or the worker's own default (a
        ``ThreadPoolExecutor`` without a size, on Python 3.9 and later)."""
        if self.python_threadpool_thread_count:
            return self.python_threadpool_thread_count
        return min(32, (os.cpu_count() or 1) + 4)


def declared_settings() -> dict[str, Scope]:
    """Setting name to scope, for every setting the code reads."""
    result: dict[str, Scope] = {}
    for field in Settings.model_fields.values():
        extra = field.json_schema_extra
        assert isinstance(extra, dict)
        assert field.alias
        result[field.alias] = extra["scope"]  # type: ignore[assignment]
    return result


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
