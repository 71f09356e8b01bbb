"""Errors become RFC 9457 problem+json here, and only here, looked up along the error's MRO."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import azure.functions as func

from functions.http.replies import to_jsonable
from shared import errors
from shared.bootstrap import as_dependency_error

log = logging.getLogger("familystory.http")

PROBLEM_TYPE_BASE = "urn:familystory:problem:"


@dataclass(frozen=True)
class Problem:
    status: int
    slug: str
    title: str


PROBLEMS: dict[type[Exception], Problem] = {
    errors.BadRequestError: Problem(400, "bad-request", "Bad request"),
    errors.UnauthorizedError: Problem(401, "unauthorized", "Unauthorized"),
    errors.ForbiddenError: Problem(403, "forbidden", "Forbidden"),
    errors.NotFoundError: Problem(404, "not-found", "Not found"),
    errors.ConflictError: Problem(409, "conflict", "Conflict"),
    errors.GoneError: Problem(410, "gone", "Gone"),
    errors.PreconditionFailedError: Problem(412, "precondition-failed", "Precondition failed"),
    errors.PayloadTooLargeError: Problem(413, "payload-too-large", "Payload too large"),
    errors.UnsupportedMediaTypeError: Problem(
        415, "unsupported-media-type", "Unsupported media type"
    ),
    errors.ValidationError: Problem(422, "validation", "Validation failed"),
    errors.TooManyRequestsError: Problem(429, "too-many-requests", "Too many requests"),
    errors.DependencyUnavailableError: Problem(
        503, "dependency-unavailable", "Service unavailable"
    ),
}
INTERNAL = Problem(500, "internal", "Internal server error")


def problem_for(error: BaseException) -> Problem:
    for cls in type(error).__mro__:
        problem = PROBLEMS.get(cls)
        if problem is not None:
            return problem
    return INTERNAL


def problem_body(error: Exception) -> tuple[dict[str, Any], dict[str, str]]:
    """The RFC 9457 body and headers for an error; the one mapping from errors to HTTP."""
    if not isinstance(error, errors.FamilyStoryError):
        error = as_dependency_error(error) or error
    problem = problem_for(error)
    headers: dict[str, str] = {}
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + problem.slug,
        "title": problem.title,
        "status": problem.status,
    }
    if isinstance(error, errors.FamilyStoryError):
        body["detail"] = error.detail
        body.update({key: to_jsonable(value) for key, value in error.extensions.items()})
        if isinstance(error, errors.ValidationError):
            body["errors"] = error.errors
        if isinstance(error, errors.UnauthorizedError):
            headers["WWW-Authenticate"] = "Bearer"
        if isinstance(error, errors.TooManyRequestsError | errors.DependencyUnavailableError):
            headers["Retry-After"] = str(error.retry_after_seconds)
    return body, headers


def problem_response(error: Exception, invocation_id: str, function: str) -> func.HttpResponse:
    body, headers = problem_body(error)
    context = {"invocation_id": invocation_id, "function": function}
    if body["status"] == INTERNAL.status:
        body["detail"] = f"An unexpected error occurred (invocation {invocation_id})."
        log.exception("unhandled error in %s", function, extra=context)
    elif body["status"] == 503:
        log.warning("dependency unavailable in %s: %s", function, body["detail"], extra=context)
    return func.HttpResponse(
        body=json.dumps(body, separators=(",", ":")),
        status_code=body["status"],
        headers=headers,
        mimetype="application/problem+json",
        charset="utf-8",
    )
