"""Recognise a dependency outage in an exception that reached the edge (503 with Retry-After).

The adapters raise outages as ``StorageUnavailableError`` already; this names the rest (an SDK
client that could not be built). The SDKs are known to ``shared.adapters.faults`` only.
"""

from __future__ import annotations

from shared.errors import DependencyUnavailableError


def as_dependency_error(error: BaseException) -> DependencyUnavailableError | None:
    """The outage ``error`` stands for, or None when it is a bug rather than an outage."""
    from shared.adapters.faults import as_dependency_error as outage

    return outage(error)
