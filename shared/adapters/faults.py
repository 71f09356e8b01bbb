"""The SDKs' exceptions, as the ports' errors and as outages.

``translated`` wraps every SDK call an adapter makes: what the SDK raises leaves it as a port
error (``shared.ports.errors``), the SDK's exception attached as the cause. An outage is a
connection that could not be made or whose answer never came (``ServiceRequestError``,
``ServiceResponseError``, their timeouts), the Cosmos DB SDK giving up on its own time limit, or
an answer of 408, 429 or 5xx once the SDK's bounded retries are spent; callers get 503 with
Retry-After, naming the dependency.

``as_dependency_error`` recognises an outage in an SDK exception that reached the edge without
passing through an adapter (a client that could not be built). It names the dependency from the
SDK that raised it: connection errors come from ``azure.core``, so the traceback's frames tell
Cosmos DB from Blob Storage.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from shared.errors import DependencyUnavailableError
from shared.ports.errors import (
    AlreadyExistsError,
    MissingError,
    StorageError,
    StorageUnavailableError,
    VersionMismatchError,
)

UNAVAILABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
DEPENDENCIES = (("azure.cosmos", "Cosmos DB"), ("azure.storage", "Blob Storage"))
COSMOS_DB = "Cosmos DB"
BLOB_STORAGE = "Blob Storage"


def is_outage(error: BaseException) -> bool:
    from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

    if isinstance(error, ServiceRequestError | ServiceResponseError):
        return True
    if type(error).__name__ == "CosmosClientTimeoutError":
        return True
    return isinstance(error, HttpResponseError) and error.status_code in UNAVAILABLE_STATUSES


@contextmanager
def translated(dependency: str) -> Iterator[None]:
    """Raise the port's error for any SDK exception raised inside."""
    from azure.core.exceptions import AzureError

    try:
        yield
    except AzureError as error:
        raise port_error(error, dependency) from error


def port_error(error: BaseException, dependency: str) -> StorageError:
    from azure.core.exceptions import (
        ResourceExistsError,
        ResourceModifiedError,
        ResourceNotFoundError,
    )

    if is_outage(error):
        return StorageUnavailableError(dependency)
    status = getattr(error, "status_code", None)
    if status == 404 or isinstance(error, ResourceNotFoundError):
        return MissingError(type(error).__name__)
    if status == 409 or isinstance(error, ResourceExistsError):
        return AlreadyExistsError()
    if status == 412 or isinstance(error, ResourceModifiedError):
        return VersionMismatchError()
    return StorageError(f"{dependency}: {type(error).__name__}")


def as_dependency_error(error: BaseException) -> DependencyUnavailableError | None:
    """The outage ``error`` stands for, or None when it is a bug rather than an outage."""
    if not is_outage(error):
        return None
    return DependencyUnavailableError(_dependency(error))


def _dependency(error: BaseException) -> str:
    modules = [type(error).__module__]
    traceback = error.__traceback__
    while traceback is not None:
        modules.append(str(traceback.tb_frame.f_globals.get("__name__", "")))
        traceback = traceback.tb_next
    for module in modules:
        for prefix, name in DEPENDENCIES:
            if module.startswith(prefix):
                return name
    return "A dependency"
