"""The composition root: builds the real adapters once per process, lazily."""

from __future__ import annotations

import threading
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from azure.cosmos import CosmosClient, DatabaseProxy
    from azure.storage.blob import BlobServiceClient

    from shared.identity import TokenValidator
    from shared.settings import Settings


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

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
    def blob_service(self) -> BlobServiceClient:
        from shared.adapters.blobs import build_blob_service

        return build_blob_service(self.settings)


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
