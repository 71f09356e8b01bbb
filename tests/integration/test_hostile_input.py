"""Every byte sequence a client can send gets a 4xx problem, never a 5xx: a table of hostile
inputs, each sent over HTTP to every operation of the OpenAPI document, as three kinds of caller.

Each row is one kind of input (a header, a route id, a query parameter, a body) and is applied
to every operation it fits, with the seeded world's real ids elsewhere, so that the input reaches
as far into the code as it can. An answer passes if it is not a 5xx and, when it is a 4xx, is
``application/problem+json`` whose ``status`` is the answer's status.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.functional.world import World
from tests.integration.conftest import UNLIMITED_RATES, HostFactory, RunningHost

ROLES = ("team_manager", "family_member", "admin")
PARAMETER = re.compile(r"\{(\w+)\}")
PREFIX = "/api/v1"
LONG = 6000  # within the host's 16 KiB of headers, far beyond any real value


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    query: tuple[str, ...]
    has_body: bool
    auth: bool

    @property
    def parameters(self) -> list[str]:
        return PARAMETER.findall(self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Sent:
    """One request: a raw path and query, headers as bytes, a raw body."""

    path: str
    query: str = ""
    headers: dict[str, bytes] = field(default_factory=dict)
    body: bytes | None = None
    content_type: bytes | None = None


@dataclass(frozen=True)
class Case:
    name: str
    applies: Callable[[Operation], bool]
    make: Callable[[Operation, World], list[Sent]]


# --- how a request is put together ------------------------------------------------------------


def real_ids(operation: Operation, world: World) -> dict[str, str]:
    """Path values that name the seeded world's records, so inputs get past the 404s."""
    collection = operation.path.split("/")[3] if operation.path.count("/") >= 3 else ""
    record = {
        "notes": world.records["note_family"],
        "agendas": world.records["agenda_family"],
        "plans": world.records["plan_family"],
        "visits": world.records["visit"],
        "members": world.records["member_self"],
        "comments": world.records["comment_family"],
    }.get(collection, str(uuid.uuid4()))
    return {
        "familyId": world.family,
        "recordId": record,
        "noteId": world.records["note_family"],
        "agendaId": world.records["agenda_family"],
        "memberId": world.records["member_self"],
        "commentId": world.records["comment_family"],
        "targetType": "notes",
        "targetId": world.records["note_family"],
        "mediaId": str(uuid.uuid4()),
        "oid": world.people["social_worker"].oid,
    }


def path_with(operation: Operation, world: World, **raw: str) -> str:
    values = real_ids(operation, world)
    return PARAMETER.sub(
        lambda m: raw.get(m[1], values.get(m[1], str(uuid.uuid4()))), operation.path
    )


def plain(operation: Operation, world: World, **extra: Any) -> Sent:
    return Sent(path_with(operation, world), **extra)


def with_body(body: bytes, content_type: bytes = b"application/json") -> Callable[..., list[Sent]]:
    return lambda op, world: [plain(op, world, body=body, content_type=content_type)]


def with_headers(**headers: bytes) -> Callable[..., list[Sent]]:
    named = {name.replace("_", "-"): value for name, value in headers.items()}
    return lambda op, world: [plain(op, world, headers=named)]


def with_query(query: str) -> Callable[..., list[Sent]]:
    return lambda op, world: [plain(op, world, query=query)]


def in_each_route_value(raw: str) -> Callable[..., list[Sent]]:
    return lambda op, world: [Sent(path_with(op, world, **{name: raw})) for name in op.parameters]


def nested(depth: int) -> bytes:
    return b'{"body": ' + b"[" * depth + b"]" * depth + b"}"


def everywhere(_: Operation) -> bool:
    return True


def has_route_values(operation: Operation) -> bool:
    return bool(operation.parameters)


def takes_body(operation: Operation) -> bool:
    return operation.has_body


def is_list(operation: Operation) -> bool:
    return "next" in operation.query or "since" in operation.query


def takes(name: str) -> Callable[[Operation], bool]:
    return lambda operation: name in operation.query


# --- the table --------------------------------------------------------------------------------

CASES = [
    # Tokens (next, since) and other query parameters.
    Case("next with non-ASCII", is_list, with_query("next=a.%C3%A9%E2%82%AC&since=a.%C3%A9")),
    Case("next, non-ASCII before the dot", is_list, with_query("next=%C3%A9.abc&since=%C3%A9.x")),
    Case("next not UTF-8", is_list, with_query("next=%FF%FE.%80&since=%FF.%FE")),
    Case("next with NUL", is_list, with_query("next=a%00.b%00&since=a%00.b")),
    Case("next huge", is_list, with_query("next=" + "A" * LONG + ".b&since=" + "A" * LONG)),
    Case("next forged", is_list, with_query("next=eyJjIjoieCJ9.AAAA&since=eyJ0IjoxfQ.AAAA")),
    Case("next repeated", is_list, with_query("next=a.b&next=c.d&since=a.b&since=c.d")),
    Case("limit with 5,000 digits", takes("limit"), with_query("limit=" + "9" * 5000)),
    Case("limit negative", takes("limit"), with_query("limit=-1")),
    Case("limit zero", takes("limit"), with_query("limit=0")),
    Case("limit non-ASCII digits", takes("limit"), with_query("limit=%D9%A1%D9%A2")),
    Case("limit full-width", takes("limit"), with_query("limit=%EF%BC%95")),
    Case("limit not a number", takes("limit"), with_query("limit=ten")),
    Case("limit repeated", takes("limit"), with_query("limit=1&limit=1000")),
    Case("visitId not a UUID", takes("visitId"), with_query("visitId=%C3%A9&noteId=%00")),
    Case("visitId huge", takes("visitId"), with_query("visitId=" + "a" * LONG)),
    Case("unknown parameters", everywhere, with_query("x=%FF&limit=%00&next=&since=&%00=1")),
    # Conditional headers.
    Case("If-Match with odd bytes", everywhere, with_headers(If_Match=b'"\xff\xfe\x80", W/"\xc3"')),
    Case("If-None-Match with odd bytes", everywhere, with_headers(If_None_Match=b'"\xff\xc3\xa9"')),
    Case("If-Match huge", everywhere, with_headers(If_Match=b'"' + b"a" * LONG + b'"')),
    Case("If-None-Match huge", everywhere, with_headers(If_None_Match=b"W/" + b'"x",' * 1500)),
    Case("If-Match malformed", everywhere, with_headers(If_Match=b'W/, ,"",*,W/W/"')),
    Case("If-None-Match star", everywhere, with_headers(If_None_Match=b"*")),
    # Authorization.
    Case(
        "Authorization with odd bytes",
        everywhere,
        with_headers(Authorization=b"Bearer \xff.\xfe.\x80"),
    ),
    Case("Authorization huge", everywhere, with_headers(Authorization=b"Bearer " + b"a" * LONG)),
    Case("Authorization, another scheme", everywhere, with_headers(Authorization=b"Basic YTpi")),
    Case(
        "Authorization, JWT of junk", everywhere, with_headers(Authorization=b"Bearer e30.e30.e30")
    ),
    # Route values.
    Case("route id not a UUID", has_route_values, in_each_route_value("not-a-uuid")),
    Case("route id non-ASCII", has_route_values, in_each_route_value("%C3%A9t%C3%A9")),
    Case("route id not UTF-8", has_route_values, in_each_route_value("%FF%FE")),
    Case("route id with a NUL", has_route_values, in_each_route_value("%00")),
    Case(
        "route id UUID and a NUL", has_route_values, in_each_route_value(str(uuid.uuid4()) + "%00")
    ),
    Case("route id with a slash", has_route_values, in_each_route_value("a%2Fb")),
    Case(
        "route id upper-case UUID", has_route_values, in_each_route_value(str(uuid.uuid4()).upper())
    ),
    Case("route id huge", has_route_values, in_each_route_value("a" * 2000)),
    Case("route id of dots", has_route_values, in_each_route_value("..")),
    # Bodies.
    Case("body not UTF-8", takes_body, with_body(b'{"body": "\xff\xfe"}')),
    Case("body UTF-16 with BOM", takes_body, with_body('{"body": "x"}'.encode("utf-16"))),
    Case("body UTF-8 with BOM", takes_body, with_body(b'\xef\xbb\xbf{"body": "x"}')),
    Case("body nested 100,000 deep", takes_body, with_body(nested(100_000))),
    Case("body nested 900 deep", takes_body, with_body(nested(900))),
    Case("body with NaN", takes_body, with_body(b'{"body": NaN, "displayName": Infinity}')),
    Case("body with 1e999", takes_body, with_body(b'{"sizeBytes": 1e999, "body": -1e999}')),
    Case("body with 5,000 digits", takes_body, with_body(b'{"sizeBytes": ' + b"9" * 5000 + b"}")),
    Case("body with a duplicate name", takes_body, with_body(b'{"body": "a", "body": "b"}')),
    Case("body with a lone surrogate", takes_body, with_body(b'{"body": "\\ud800"}')),
    Case("body with NULs", takes_body, with_body(b'{"body": "\\u0000", "\\u0000": 1}')),
    Case("body empty", takes_body, with_body(b"")),
    Case("body null", takes_body, with_body(b"null")),
    Case("body a list", takes_body, with_body(b"[{}]")),
    Case("body truncated", takes_body, with_body(b'{"body": "')),
    Case("body over 1 MiB", takes_body, with_body(b'{"body": "' + b"a" * (1 << 20) + b'"}')),
    Case("body, charset UTF-16", takes_body, with_body(b"{}", b"application/json; charset=utf-16")),
    Case("body, text/plain", takes_body, with_body(b"{}", b"text/plain")),
    Case("body, content type odd", takes_body, with_body(b"{}", b"application/json;\xff=\xfe")),
    Case("body, no content type", takes_body, lambda op, world: [plain(op, world, body=b"{}")]),
]


# --- fixtures and the test --------------------------------------------------------------------


@pytest.fixture(scope="module")
def host(host_factory: HostFactory) -> RunningHost:
    """Rate limits out of the way: each input must reach the code it is meant for."""
    return host_factory(**UNLIMITED_RATES)


@pytest.fixture(scope="module")
def operations(host: RunningHost) -> list[Operation]:
    document = httpx.get(f"{host.url}{PREFIX}/openapi.json", timeout=10).json()
    found = []
    for path, methods in document["paths"].items():
        for method, spec in methods.items():
            query = tuple(p["name"] for p in spec.get("parameters", []) if p["in"] == "query")
            found.append(
                Operation(method.upper(), path, query, "requestBody" in spec, "security" in spec)
            )
    assert len(found) > 40
    return found


def send(
    client: httpx.Client, operation: Operation, sent: Sent, token: str | None
) -> httpx.Response:
    headers: dict[str, bytes] = {}
    if token and operation.auth:
        headers["Authorization"] = f"Bearer {token}".encode()
    if sent.content_type is not None:
        headers["Content-Type"] = sent.content_type
    headers.update(sent.headers)
    url = PREFIX + sent.path + (f"?{sent.query}" if sent.query else "")
    raw_headers = [(name.encode(), value) for name, value in headers.items()]
    request = client.build_request(operation.method, url, headers=raw_headers, content=sent.body)
    request.url = request.url.copy_with(raw_path=url.encode())  # exactly these bytes
    return client.send(request)


def fault(response: httpx.Response) -> str | None:
    """What is wrong with an answer, or None."""
    status = response.status_code
    if status >= 500:
        return f"{status}: {response.text[:200]}"
    if status < 400:
        return None
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return f"{status} as {response.headers.get('content-type')!r}"
    try:
        body = json.loads(response.content)
    except ValueError:
        return f"{status} with a body that is not JSON"
    if not isinstance(body, dict) or body.get("status") != status or "type" not in body:
        return f"{status} with a problem that does not say so: {response.text[:200]}"
    if status == 401 and response.headers.get("www-authenticate") != "Bearer":
        return "401 without WWW-Authenticate: Bearer"
    return None


@pytest.mark.emulators
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_input_gets_a_problem_never_a_server_error(
    case: Case, host: RunningHost, world: World, operations: list[Operation]
) -> None:
    faults: list[str] = []
    sent_count = 0
    with httpx.Client(base_url=host.url, timeout=60) as client:
        for operation in operations:
            if not case.applies(operation):
                continue
            for role in ROLES if operation.auth else ("anonymous",):
                for sent in case.make(operation, world):
                    response = send(client, operation, sent, world.token(role))
                    sent_count += 1
                    problem = fault(response)
                    if problem:
                        faults.append(f"{operation} as {role} ({sent.path}): {problem}")
    assert sent_count, "the case applies to no operation"
    assert not faults, "\n".join(faults)
