"""The readiness probes: the properties of every Cosmos DB container and every blob container
the app uses, read with its identity, so that a missing container or a missing role shows, not
only an account that answers."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from shared.storage_layout import BLOB_CONTAINERS, COSMOS_CONTAINERS

if TYPE_CHECKING:
    from azure.cosmos import ContainerProxy, DatabaseProxy
    from azure.storage.blob import BlobServiceClient, ContainerClient


def readiness_probes(
    database: DatabaseProxy, blob_service: BlobServiceClient
) -> dict[str, Callable[[float], Any]]:
    probes: dict[str, Callable[[float], Any]] = {}
    for container in COSMOS_CONTAINERS:
        cosmos = database.get_container_client(container.name)
        probes[f"cosmos/{container.name}"] = partial(_cosmos_container, cosmos)
    for name in BLOB_CONTAINERS:
        blobs = blob_service.get_container_client(name)
        probes[f"storage/{name}"] = partial(_container_properties, blobs)
    return probes


def _cosmos_container(container: ContainerProxy, timeout: float) -> None:
    container.read(timeout=timeout)


def _container_properties(container: ContainerClient, timeout: float) -> None:
    container.get_container_properties(timeout=max(1, round(timeout)))
