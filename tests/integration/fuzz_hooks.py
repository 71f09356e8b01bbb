"""Schemathesis hooks for the contract fuzzing runs: every 4xx is an RFC 9457 problem."""

from __future__ import annotations

import json
from typing import Any

import schemathesis
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
