"""Blob Storage: the service client (built once per process, lazily) and container provisioning."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from shared.settings import Settings
from shared.storage_layout import BLOB_CONTAINERS

if TYPE_CHECKING:
    from azure.storage.blob import BlobServiceClient

CONNECTION_TIMEOUT_SECONDS = 5
RETRY_TOTAL = 3


def build_blob_service(settings: Settings) -> BlobServiceClient:
    from azure.storage.blob import BlobServiceClient

    options: dict[str, Any] = {
        "connection_timeout": CONNECTION_TIMEOUT_SECONDS,
        "retry_total": RETRY_TOTAL,
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
