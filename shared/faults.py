"""Recognise a dependency outage in an SDK exception, so callers get 503 with Retry-After.

An outage is a connection that could not be made or whose answer never came
(``ServiceRequestError``, ``ServiceResponseError``, their timeouts), the Cosmos DB SDK giving up
on its own time limit, or an answer of 408, 429 or 5xx once the SDK's bounded retries are spent.
The dependency is named from the SDK that raised it: connection errors come from
``azure.core``, so the traceback's frames tell Cosmos DB from Blob Storage.
"""

from __future__ import annotations

from shared.errors import DependencyUnavailableError

UNAVAILABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
DEPENDENCIES = (("azure.cosmos", "Cosmos DB"), ("azure.storage", "Blob Storage"))


def as_dependency_error(error: BaseException) -> DependencyUnavailableError | None:
    """The outage ``error`` stands for, or None when it is a bug rather than an outage."""
    from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError
    from azure.cosmos.exceptions import CosmosClientTimeoutError

    name = _dependency(error)
    if isinstance(error, ServiceRequestError | ServiceResponseError | CosmosClientTimeoutError):
        return DependencyUnavailableError(name)
    if isinstance(error, HttpResponseError) and error.status_code in UNAVAILABLE_STATUSES:
        return DependencyUnavailableError(name)
    return None


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
