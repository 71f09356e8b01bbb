"""The HTTP edge: bodies are checked, and every error becomes problem+json in one place."""

from __future__ import annotations

import json
import logging
from typing import Any

import azure.functions as func
import pytest

from functions.http import Call, EndpointSpec, Reply
from functions.http.endpoints import dispatch
from functions.http.problems import problem_for
from shared import errors
from shared.models import InputModel
from shared.validation import validate


class NoteIn(InputModel):
    body: str
    visit_id: str | None = None


def request(body: bytes = b"", content_type: str | None = "application/json") -> func.HttpRequest:
    headers = {"content-type": content_type} if content_type else {}
    return func.HttpRequest("POST", "http://localhost/api/v1/x", headers=headers, body=body)


def run(handler: Any, req: func.HttpRequest) -> tuple[int, dict[str, Any], func.HttpResponse]:
    spec = EndpointSpec("test_fn", "x", ("POST",), "a test", auth=False, status=201)
    response = dispatch(spec, handler, req, "inv-1")
    payload = json.loads(response.get_body()) if response.get_body() else {}
    return response.status_code, payload, response


def echo(call: Call) -> NoteIn:
    return call.json(NoteIn)


def test_valid_body_is_parsed_and_encoded_camel_case() -> None:
    status, payload, response = run(echo, request(b'{"body": " hi ", "visitId": "v1"}'))
    assert status == 201
    assert payload == {"body": "hi", "visitId": "v1"}
    assert response.mimetype == "application/json"


def test_malformed_json_is_400_problem() -> None:
    status, payload, response = run(echo, request(b'{"body": '))
    assert status == 400
    assert response.mimetype == "application/problem+json"
    assert payload["type"].endswith("bad-request")
    assert payload["status"] == 400


def test_invalid_utf8_is_400_problem() -> None:
    status, _, _ = run(echo, request(b'{"body": "\xff\xfe"}'))
    assert status == 400


@pytest.mark.parametrize(
    ("case", "body"),
    [
        ("an integer over Python's 4,300-digit limit", b'{"body": ' + b"9" * 5000 + b"}"),
        ("an integer beyond exact binary64", b'{"body": "x", "visitId": 9007199254740993}'),
        ("NaN", b'{"body": NaN}'),
        ("Infinity", b'{"body": "x", "visitId": -Infinity}'),
        ("a float that overflows", b'{"body": "x", "visitId": 1e999}'),
        ("a duplicate name", b'{"body": "a", "body": "b"}'),
        ("a lone surrogate", b'{"body": "\\ud800"}'),
        ("a UTF-8 byte order mark", b'\xef\xbb\xbf{"body": "x"}'),
        ("UTF-16 with a byte order mark", '{"body": "x"}'.encode("utf-16")),
        ("UTF-32", '{"body": "x"}'.encode("utf-32-le")),
        (
            "nesting deeper than any request needs",
            b'{"body": "x", "visitId": ' + b"[" * 200 + b"]" * 200 + b"}",
        ),
    ],
)
def test_a_body_that_is_not_interoperable_json_is_400(case: str, body: bytes) -> None:
    """Bodies are I-JSON (RFC 7493): UTF-8, unique names, numbers a double holds exactly."""
    status, payload, response = run(echo, request(body))
    assert status == 400, case
    assert response.mimetype == "application/problem+json"
    assert payload["detail"].startswith("The request body")


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-16", "application/json; charset=latin-1", "application/json+x"],
)
def test_json_in_another_charset_is_415(content_type: str) -> None:
    status, _, _ = run(echo, request(b'{"body": "x"}', content_type))
    assert status == 415


@pytest.mark.parametrize(
    "content_type",
    ["APPLICATION/JSON", "application/json;charset=UTF-8", 'application/json; charset="utf-8"'],
)
def test_json_content_type_variants_are_accepted(content_type: str) -> None:
    status, _, _ = run(echo, request(b'{"body": "x"}', content_type))
    assert status == 201


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/xml", "multipart/form-data"]
)
def test_wrong_content_type_is_415(content_type: str | None) -> None:
    status, payload, _ = run(echo, request(b'{"body": "x"}', content_type))
    assert status == 415
    assert payload["title"] == "Unsupported media type"


def test_json_with_charset_is_accepted() -> None:
    status, _, _ = run(echo, request(b'{"body": "x"}', "application/json; charset=utf-8"))
    assert status == 201


def test_body_over_one_mebibyte_is_413() -> None:
    big = json.dumps({"body": "x" * (1024 * 1024)}).encode()
    status, payload, _ = run(echo, request(big))
    assert status == 413
    assert payload["status"] == 413


def test_unknown_field_and_wrong_type_are_422_with_locations_and_no_echo() -> None:
    secret = "do-not-echo-this-value"
    status, payload, _ = run(echo, request(json.dumps({"body": 5, "extra": secret}).encode()))
    assert status == 422
    assert sorted((tuple(e["loc"]), e["type"]) for e in payload["errors"]) == [
        (("body", "body"), "string_type"),
        (("body", "extra"), "extra_forbidden"),
    ]
    assert secret not in json.dumps(payload)
    assert "5" not in json.dumps(payload["errors"])


def test_non_object_json_is_422() -> None:
    status, payload, _ = run(echo, request(b"[1, 2, 3]"))
    assert status == 422
    assert payload["errors"][0]["loc"] == ["body"]


def test_deeply_nested_json_is_rejected_not_crashed() -> None:
    status, _, _ = run(echo, request(b"[" * 100_000 + b"]" * 100_000))
    assert status in {400, 422}


def test_unexpected_exception_is_500_with_generic_detail_and_logged_invocation(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(call: Call) -> Reply:
        raise RuntimeError("connection string AccountKey=supersecret")

    with caplog.at_level(logging.ERROR, logger="familystory.http"):
        status, payload, _ = run(broken, request())
    assert status == 500
    assert "supersecret" not in json.dumps(payload)
    assert "inv-1" in payload["detail"]
    assert any(getattr(r, "invocation_id", None) == "inv-1" for r in caplog.records)


def test_unauthorized_carries_www_authenticate_bearer() -> None:
    def denied(call: Call) -> Reply:
        raise errors.UnauthorizedError("A bearer token is required.")

    status, _, response = run(denied, request())
    assert status == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_dependency_outage_is_503_with_retry_after() -> None:
    from azure.core.exceptions import ServiceRequestError

    def outage(call: Call) -> Reply:
        raise ServiceRequestError("connection refused")

    status, payload, response = run(outage, request())
    assert status == 503
    assert response.headers["Retry-After"] == "5"
    assert payload["type"].endswith("dependency-unavailable")


def test_conflict_extensions_are_included() -> None:
    def conflict(call: Call) -> Reply:
        raise errors.ConflictError("exists", current={"id": "n1", "version": "v2"})

    status, payload, _ = run(conflict, request())
    assert status == 409
    assert payload["current"] == {"id": "n1", "version": "v2"}


def test_problem_lookup_follows_the_exception_mro() -> None:
    class MissingNoteError(errors.NotFoundError):
        pass

    assert problem_for(MissingNoteError("gone")).status == 404
    assert problem_for(KeyError("x")).status == 500


def test_validate_prefixes_locations() -> None:
    with pytest.raises(errors.ValidationError) as raised:
        validate(NoteIn, {"visitId": 3}, ("query",))
    assert {tuple(e["loc"]) for e in raised.value.errors} == {
        ("query", "body"),
        ("query", "visitId"),
    }
