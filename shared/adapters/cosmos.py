"""Cosmos DB: the client (built once per process, lazily) and container provisioning.

The SDK's defaults wait 65 s for an answer and retry for minutes; an outage must reach the
caller as a 503 in seconds, so connect and read timeouts and the retries are bounded by the
``COSMOS_*_TIMEOUT_SECONDS`` and ``COSMOS_RETRY_TOTAL`` settings. Requests go through the app's
own transport (``shared.adapters.transport``): a pool as large as the worker's concurrency and no
proxy looked up in the environment.

One client serves every thread of an instance, but the SDK keeps the headers of the last answer
on it (``last_response_headers``): a query page takes its continuation from there, and the SDK
writes retry counts into them after each request. Shared between threads, another thread's
answer landing in between cost a list or a sync pull its next page, and a query copying the
headers while another thread wrote into them failed ("OrderedDict mutated during iteration").
Each thread therefore keeps its own last headers.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from shared.settings import Settings
from shared.storage_layout import COSMOS_CONTAINERS

if TYPE_CHECKING:
    from azure.cosmos import ContainerProxy as ContainerProxy
    from azure.cosmos import CosmosClient as CosmosClient
    from azure.cosmos import DatabaseProxy as DatabaseProxy

RETRY_BACKOFF_MAX_SECONDS = 2


def build_cosmos_client(settings: Settings, **extra: Any) -> CosmosClient:
    """The client; ``extra`` options reach the SDK (e.g. ``raw_response_hook`` for counting)."""
    from azure.cosmos import CosmosClient

    from shared.adapters.transport import build_transport

    timeouts: dict[str, Any] = {
        "connection_timeout": settings.cosmos_connect_timeout_seconds,
        "read_timeout": settings.cosmos_read_timeout_seconds,
    }
    verify = settings.cosmos_ca_certificate or True
    options: dict[str, Any] = {
        "transport": build_transport(settings, connection_verify=verify, **timeouts),
        **extra,
        **timeouts,
        "retry_total": settings.cosmos_retry_total,
        "retry_connect": settings.cosmos_retry_total,
        "retry_read": settings.cosmos_retry_total,
        "retry_backoff_max": RETRY_BACKOFF_MAX_SECONDS,
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
    client = CosmosClient(settings.cosmos_endpoint, credential=credential, **options)
    headers_per_thread(client)
    return client


class _ThreadHeaders(threading.local):
    value: Any = None


def headers_per_thread(client: CosmosClient) -> None:
    """Give each thread its own ``last_response_headers`` on this client's connection."""
    connection: Any = client.client_connection
    base = type(connection)
    if getattr(base, "headers_per_thread", False):
        return
    from azure.core.utils import CaseInsensitiveDict

    def get(self: Any) -> Any:
        slot = self.__dict__["_thread_headers"]
        if slot.value is None:
            slot.value = CaseInsensitiveDict()
        return slot.value

    def put(self: Any, value: Any) -> None:
        self.__dict__["_thread_headers"].value = value

    per_thread = type(
        base.__name__,
        (base,),
        {"last_response_headers": property(get, put), "headers_per_thread": True},
    )
    first = connection.__dict__.pop("last_response_headers", None)
    connection.__dict__["_thread_headers"] = _ThreadHeaders()
    connection.__class__ = per_thread
    connection.last_response_headers = first


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
