"""Typed domain errors. Each maps to one HTTP status in exactly one place (functions/http.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class FamilyStoryError(Exception):
    """Base of every error the app raises on purpose. ``detail`` is safe to show the caller."""

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions: dict[str, Any] = {k: v for k, v in extensions.items() if v is not None}


class BadRequestError(FamilyStoryError):
    """The request is malformed: a body that is not JSON, a malformed query parameter."""


class UnauthorizedError(FamilyStoryError):
    """No bearer token, or one that is invalid or expired."""


class ForbiddenError(FamilyStoryError):
    """The caller may see the record but their role may not do this action."""


class NotFoundError(FamilyStoryError):
    """No such record, or the caller may not see it."""


class ConflictError(FamilyStoryError):
    """A create with an id that exists with different content."""


class PreconditionFailedError(FamilyStoryError):
    """An ``If-Match`` that does not match the stored version."""


class GoneError(FamilyStoryError):
    """Something the caller holds has expired for good (a sync token past tombstone lifetime)."""


class PayloadTooLargeError(FamilyStoryError):
    """A body or an upload over its size limit."""


class UnsupportedMediaTypeError(FamilyStoryError):
    """A body that is not ``application/json``."""


class TooManyRequestsError(FamilyStoryError):
    """The caller is rate limited."""

    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


class ValidationError(FamilyStoryError):
    """Well-formed input that fails validation. ``errors`` say where and what kind, never echo."""

    def __init__(self, detail: str, errors: Sequence[Mapping[str, Any]]) -> None:
        super().__init__(detail)
        self.errors = [dict(error) for error in errors]

    @classmethod
    def at(cls, loc: Sequence[str | int], kind: str, detail: str) -> ValidationError:
        return cls(detail, [{"loc": list(loc), "type": kind}])


class DependencyUnavailableError(FamilyStoryError):
    """A dependency (Cosmos DB, Storage, ...) is down; nothing was half-written."""

    def __init__(self, dependency: str, retry_after_seconds: int = 5, **extensions: Any) -> None:
        super().__init__(f"{dependency} is unavailable; try again shortly.", **extensions)
        self.dependency = dependency
        self.retry_after_seconds = retry_after_seconds
