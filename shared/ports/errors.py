"""How a storage port fails. Adapters turn their SDK's exceptions into these, so no service ever
catches an SDK's own; the SDK's exception stays attached as the cause.

- ``MissingError``: no such document or blob (where the port does not answer ``None``).
- ``AlreadyExistsError``: a create found the id taken; ``existing`` is what holds it, when the
  port read it.
- ``VersionMismatchError``: a conditional write or read named a version that is no longer
  current (If-Match); ``current`` is the current document, when the port read it.
- ``StorageUnavailableError``: the store did not answer in time, or refused for now (throttled,
  a 5xx); it is a ``DependencyUnavailableError``, so callers answer 503 with Retry-After.
- ``StorageError``: any other failure of the store: a bug rather than an outage.
"""

from __future__ import annotations

from typing import Any

from shared.errors import DependencyUnavailableError


class StorageError(Exception):
    """A storage port could not do what was asked."""


class MissingError(StorageError):
    """No such document or blob."""


class AlreadyExistsError(StorageError):
    def __init__(self, existing: dict[str, Any] | None = None) -> None:
        super().__init__("a document with this id exists")
        self.existing = existing


class VersionMismatchError(StorageError):
    def __init__(self, current: dict[str, Any] | None = None) -> None:
        super().__init__("the document changed since it was read")
        self.current = current


class StorageUnavailableError(StorageError, DependencyUnavailableError):
    """An outage of the store; nothing was half-written by this call."""
