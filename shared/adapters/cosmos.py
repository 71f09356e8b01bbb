"""Cosmos DB: the client (built once per process, lazily) and container provisioning."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.settings import Settings
from shared.storage_layout import COSMOS_CONTAINERS

if TYPE_CHECKING:
    from azure.cosmos import CosmosClient, DatabaseProxy

CONNECTION_TIMEOUT_SECONDS = 5
RETRY_TOTAL = 3


def build_cosmos_client(settings: Settings, **extra: Any) -> CosmosClient:
    """The client; ``extra`` options reach the SDK (e.g. ``raw_response_hook`` for counting)."""
    from azure.cosmos import CosmosClient

    options: dict[str, Any] = {
        **extra,
        "connection_timeout": CONNECTION_TIMEOUT_SECONDS,
        "retry_total": RETRY_TOTAL,
        "retry_connect": RETRY_TOTAL,
        "retry_read": RETRY_TOTAL,
        "retry_backoff_max": 2,
        "enable_endpoint_discovery": False,
    }
    if settings.cosmos_ca_certificate:
        from azure.cosmos.documents import SSLConfiguration

        options["connection_verify"] = settings.cosmos_ca_certificate
        options["ssl_config"] = SSLConfiguration()
    credential: Any
    if settings.cosmos_key:
        credential = settings.cosmos_key
    else:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential(managed_identity_client_id=settings.azure_client_id)
    return CosmosClient(settings.cosmos_endpoint, credential=credential, **options)


def provision_database(client: CosmosClient, database_name: str) -> DatabaseProxy:
    """Create the database and every container if missing (local emulators only; Bicep in Azure)."""
    from azure.cosmos import PartitionKey

    database = client.create_database_if_not_exists(database_name)
    for spec in COSMOS_CONTAINERS:
        options: dict[str, Any] = {}
        if spec.default_ttl is not None:
            options["default_ttl"] = spec.default_ttl
        database.create_container_if_not_exists(
            id=spec.name,
            partition_key=PartitionKey(path=spec.partition_key),
            indexing_policy=spec.indexing_policy,
            **options,
        )
    return database
