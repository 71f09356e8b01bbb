"""Blob Storage: the service client (built once per process, lazily) and container provisioning.

Connect and read timeouts and retries come from the ``STORAGE_*`` settings (the SDK's defaults
wait 60 s for each read), and a retry waits about 2 s, then 4, then 8 (the SDK's default waits
15 s plus 3 to the power of the retry, about 18 s before the first), so an outage reaches the
caller as a 503 in seconds. Requests go through
the app's own transport (``shared.adapters.transport``): a pool as large as the worker's
concurrency and no proxy looked up in the environment. The clients of containers and blobs made
from the service client share its transport.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from shared.settings import Settings
from shared.storage_layout import BLOB_CONTAINERS

if TYPE_CHECKING:
    from azure.storage.blob import BlobServiceClient as BlobServiceClient

# The SDK's exponential retry waits initial_backoff + increment_base ** retry seconds, give or
# take random_jitter_range.
RETRY_BACKOFF = {"initial_backoff": 0, "increment_base": 2, "random_jitter_range": 1}


def build_blob_service(settings: Settings) -> BlobServiceClient:
    from azure.storage.blob import BlobServiceClient as BlobServiceClient

    from shared.adapters.transport import build_transport

    timeouts: dict[str, Any] = {
        "connection_timeout": settings.storage_connect_timeout_seconds,
        "read_timeout": settings.storage_read_timeout_seconds,
    }
    options: dict[str, Any] = {
        "transport": build_transport(settings, **timeouts),
        "retry_total": settings.storage_retry_total,
        **RETRY_BACKOFF,
    }
    if settings.media_storage_connection_string:
        return BlobServiceClient.from_connection_string(
            settings.media_storage_connection_string, **options
        )
    from azure.identity import DefaultAzureCredential

    credential = DefaultAzureCredential(managed_identity_client_id=settings.azure_client_id)
    return BlobServiceClient(settings.media_storage_blob_uri, credential=credential, **options)


def provision_containers(service: BlobServiceClient) -> None:
    """Create every blob container if missing (local emulators only; Bicep in Azure)."""
    from azure.core.exceptions import ResourceExistsError

    for name in BLOB_CONTAINERS:
        with contextlib.suppress(ResourceExistsError):
            service.create_container(name)
