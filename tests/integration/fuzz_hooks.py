"""Schemathesis hooks for the contract fuzzing runs: every 4xx is an RFC 9457 problem."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import schemathesis
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from schemathesis import Case, CheckContext, Response

PROBLEM_FIELDS = ("type", "title", "status", "detail")


@schemathesis.check
def client_errors_are_problem_details(
    ctx: CheckContext, response: Response, case: Case[Any]
) -> None:
    if not 400 <= response.status_code < 500:
        return
    content_type = response.headers.get("content-type", [""])[0]
    if not content_type.startswith("application/problem+json"):
        raise AssertionError(
            f"{response.status_code} answered as {content_type!r}, not problem+json"
        )
    body = json.loads(response.content)
    missing = [name for name in PROBLEM_FIELDS if name not in body]
    if missing:
        raise AssertionError(f"problem body lacks {missing}: {body}")
    if body["status"] != response.status_code:
        raise AssertionError(f"problem status {body['status']} != {response.status_code}")


MANAGERS_FIELDS = ("workerIds", "retentionClass", "closedAt", "adoptionOrderAt")


@schemathesis.hook("flatmap_body")
def families_created_also_within_a_social_workers_rights(
    context: schemathesis.HookContext, body: Any
) -> SearchStrategy[Any]:
    """A generated family nearly always names allocation or retention, which only managers may
    set, so a social worker's creates were all refused and the stateful phase had nothing to
    follow. Half the generated families leave those fields out; the rest keep them."""
    operation = context.operation
    if (
        operation is None
        or operation.method.upper() != "POST"
        or operation.path != "/families"
        or not isinstance(body, dict)
    ):
        return st.just(body)
    plain = {k: v for k, v in body.items() if k not in MANAGERS_FIELDS}
    return st.sampled_from([plain, body])


@schemathesis.hook("flatmap_body")
def grants_also_end_within_the_allowed_time(
    context: schemathesis.HookContext, body: Any
) -> SearchStrategy[Any]:
    """A generated ``expiresAt`` is nearly always in the past or beyond ``PARTNER_MAX_DAYS``, so
    every grant was refused and the stateful phase never reached one. Half the generated grants
    (and changes of one) end within the allowed time; the rest keep what was generated."""
    operation = context.operation
    if (
        operation is None
        or operation.method.upper() not in {"POST", "PATCH"}
        or not operation.path.startswith("/families/{familyId}/partners")
        or not isinstance(body, dict)
        or "expiresAt" not in body
    ):
        return st.just(body)
    end = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return st.sampled_from([{**body, "expiresAt": end}, body])
