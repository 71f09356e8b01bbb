"""Recognise a dependency outage in an SDK exception, so callers get 503 with Retry-After."""

from __future__ import annotations

from shared.errors import DependencyUnavailableError

UNAVAILABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def as_dependency_error(error: BaseException) -> DependencyUnavailableError | None:
    """The outage ``error`` stands for, or None when it is a bug rather than an outage."""
    from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

    name = _dependency(error)
    if isinstance(error, ServiceRequestError | ServiceResponseError):
        return DependencyUnavailableError(name)
    if isinstance(error, HttpResponseError) and error.status_code in UNAVAILABLE_STATUSES:
        return DependencyUnavailableError(name)
    return None


def _dependency(error: BaseException) -> str:
    module = type(error).__module__
    if module.startswith("azure.cosmos"):
        return "Cosmos DB"
    if module.startswith("azure.storage"):
        return "Blob Storage"
    return "A dependency"
