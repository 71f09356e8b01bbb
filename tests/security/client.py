"""Requests to the app in process, routed as the local host routes them, answers kept as bytes.

The functions are called directly (no sockets): the suite makes a few thousand requests, and an
answer is compared byte for byte with another, so the status, the headers the function set,
its media type and its raw body are all kept.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import azure.functions as func

from local.host.http import HttpHost, http_functions, route_prefix

# Members of a problem that may differ per request without saying anything about the object.
VOLATILE_MEMBERS = frozenset({"instance", "traceId", "trace_id", "invocationId", "requestId"})
VOLATILE_HEADERS = frozenset({"date", "x-request-id", "traceparent", "request-context"})


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    token: str | None = None
    body: Any = None
    headers: tuple[tuple[str, str], ...] = ()
    query: tuple[tuple[str, str], ...] = ()

    def as_text(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.query)
        sent = "" if self.body is None else f" {json.dumps(self.body, separators=(',', ':'))}"
        extra = "".join(f" [{k}: {v}]" for k, v in self.headers)
        return f"{self.method} {self.path}{'?' + query if query else ''}{extra}{sent}"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    media_type: str | None
    raw: bytes
    request: Request = field(compare=False)

    def json(self) -> Any:
        return json.loads(self.raw) if self.raw else None

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)

    def fingerprint(self) -> tuple[int, tuple[tuple[str, str], ...], str | None, bytes]:
        """Everything a caller sees of the answer, less what differs per request anyway."""
        headers = tuple(
            sorted(
                (k.lower(), v) for k, v in self.headers.items() if k.lower() not in VOLATILE_HEADERS
            )
        )
        return self.status, headers, self.media_type, stable_body(self.raw)

    def describe(self) -> str:
        return f"{self.status} {self.raw.decode(errors='replace')[:600]}"


def stable_body(raw: bytes) -> bytes:
    """The body without per-request members of a JSON object, in the order the app wrote it."""
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return raw
    if not isinstance(document, dict) or not VOLATILE_MEMBERS & set(document):
        return raw
    kept = {k: v for k, v in document.items() if k not in VOLATILE_MEMBERS}
    return json.dumps(kept, separators=(",", ":"), ensure_ascii=False).encode()


class Client:
    """Sends requests to the functions in this process. ``send_all`` sends several at once, as
    a Functions instance runs concurrent invocations on its thread pool, and waits for all: the
    emulators answer in about 10 ms, much of it waiting, so requests overlap instead of queueing.
    (Never leave a request running across tests: pytest changes ``os.environ`` between them,
    which the HTTP library under the Cosmos DB SDK reads on every call.)"""

    def __init__(self, functions: list[func.Function], workers: int = 12) -> None:
        self.prefix = route_prefix()
        self.host = HttpHost(http_functions(functions), self.prefix)
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="security")

    def close(self) -> None:
        self.pool.shutdown()

    def send_all(self, requests: Sequence[Request]) -> list[Answer]:
        return list(self.pool.map(self.send, requests))

    def send(self, request: Request) -> Answer:
        url_path = f"{self.prefix}{request.path}"
        matched = self.host.match(request.method, url_path)
        if not isinstance(matched, tuple):
            return Answer(
                matched.status_code,
                dict(matched.headers),
                matched.media_type,
                bytes(matched.body),
                request,
            )
        function, route_params = matched
        headers: dict[str, str] = {}
        raw = b""
        if request.body is not None:
            raw = json.dumps(request.body).encode()
            headers["content-type"] = "application/json"
        if request.token:
            headers["authorization"] = f"Bearer {request.token}"
        headers.update(dict(request.headers))
        response = function.function(
            func.HttpRequest(
                request.method,
                f"http://localhost{url_path}",
                headers=headers,
                params=dict(request.query),
                route_params=route_params,
                body=raw,
            )
        )
        return Answer(
            response.status_code,
            dict(response.headers),
            response.mimetype,
            response.get_body() or b"",
            request,
        )

    def pull(self, token: str | None, since: str | None = None) -> tuple[list[Any], str]:
        """Every page of a sync pull: the changes, and the last ``next`` to pull from later."""
        changes: list[Any] = []
        while True:
            answer = self.call("GET", "/sync", token, query={"since": since} if since else None)
            assert answer.status == 200, answer.describe()
            page = answer.json()
            changes += page["changes"]
            since = str(page["next"])
            if not page["more"]:
                return changes, since

    def call(
        self,
        method: str,
        path: str,
        token: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
    ) -> Answer:
        return self.send(
            Request(
                method,
                path,
                token,
                body,
                tuple((headers or {}).items()),
                tuple((query or {}).items()),
            )
        )
