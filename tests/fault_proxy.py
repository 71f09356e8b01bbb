"""A TCP proxy in front of a real service that a test can tell to fail, so outages are real
network failures while the service behind it keeps its data.

Modes, for every connection:

- ``up``: bytes pass both ways;
- ``refuse``: the listening socket is closed and open connections are cut: a new connection is
  refused by the kernel, as when the service is down;
- ``blackhole``: connections are accepted and requests read, but nothing is ever answered (a
  hung service, or packets dropped on the way): only the client's read timeout ends the wait.

``cut()`` resets every open connection at once (a drop in the middle of requests).

With ``tls`` set, the proxy terminates TLS with the service's own certificate and reads each
HTTP/1.1 request, so ``fail(rule, action)`` can fail chosen requests: ``"drop"`` closes the
connection before the request reaches the service, ``"lose-answer"`` lets the service apply it
and then closes the connection instead of answering, and a number answers with that status
without forwarding. Every request seen is kept in ``requests`` with what was done to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

Mode = Literal["up", "refuse", "blackhole"]
Action = Literal["pass", "drop", "lose-answer"] | int
T = TypeVar("T")
CONTROL_TIMEOUT = 10.0


@dataclass(frozen=True)
class Tls:
    """Terminate TLS with ``cert``/``key`` and speak TLS to the service, trusting ``cert``."""

    cert: Path
    key: Path
    server_hostname: str = "localhost"


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]
    action: Action

    @property
    def is_query(self) -> bool:
        return self.headers.get("content-type", "").startswith("application/query+json")


@dataclass
class Rule:
    matches: Callable[[SeenRequest], bool]
    action: Action
    times: int | None


@dataclass
class FaultProxy:
    upstream_port: int
    tls: Tls | None = None
    port: int = 0
    mode: Mode = "up"
    requests: list[SeenRequest] = field(default_factory=list)
    _rules: list[Rule] = field(default_factory=list)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _server: asyncio.base_events.Server | None = None
    _transports: set[asyncio.BaseTransport] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- control, from the test's thread ------------------------------------------------------

    def start(self) -> FaultProxy:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        self._call(self._listen())
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        self._call(self._close(cut=True))
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(CONTROL_TIMEOUT)
        self._loop.close()
        self._loop = None

    def up(self) -> None:
        """Back to normal: listen again (same port) and forward everything."""
        self.mode = "up"
        self._call(self._listen())

    def refuse(self) -> None:
        self.mode = "refuse"
        self._call(self._close(cut=True))

    def blackhole(self) -> None:
        self.mode = "blackhole"
        self._call(self._listen())

    def cut(self) -> None:
        self._call(self._cut())

    def fail(
        self, matches: Callable[[SeenRequest], bool], action: Action, times: int | None = 1
    ) -> None:
        """Do ``action`` to the next ``times`` requests that match (every one when None)."""
        with self._lock:
            self._rules.append(Rule(matches, action, times))

    def clear_rules(self) -> None:
        with self._lock:
            self._rules.clear()

    def seen(self, matches: Callable[[SeenRequest], bool]) -> list[SeenRequest]:
        with self._lock:
            return [request for request in self.requests if matches(request)]

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        assert self._loop is not None, "the proxy is not running"
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(CONTROL_TIMEOUT)

    # --- the proxy, on its own event loop -----------------------------------------------------

    async def _listen(self) -> None:
        if self._server is not None:
            return
        context = None
        if self.tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.tls.cert, self.tls.key)
        handler = self._serve_http if self.tls else self._serve_tcp
        self._server = await asyncio.start_server(
            handler, "127.0.0.1", self.port, ssl=context, reuse_address=True
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _close(self, *, cut: bool) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        if cut:
            await self._cut()

    async def _cut(self) -> None:
        for transport in list(self._transports):
            if isinstance(transport, asyncio.WriteTransport):
                transport.abort()
            else:
                transport.close()
        self._transports.clear()

    def _track(self, writer: asyncio.StreamWriter) -> None:
        self._transports.add(writer.transport)

    def _untrack(self, *writers: asyncio.StreamWriter) -> None:
        for writer in writers:
            self._transports.discard(writer.transport)
            writer.transport.abort()

    async def _hang(self, reader: asyncio.StreamReader) -> None:
        """Read and ignore whatever comes, answer nothing, until the client or a cut ends it."""
        while await reader.read(65536):
            pass

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._track(writer)
        try:
            if self.mode == "blackhole":
                await self._hang(reader)
                return
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            self._untrack(writer)
            return
        self._track(up_writer)
        try:
            await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer))
        finally:
            self._untrack(writer, up_writer)

    async def _serve_http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._track(writer)
        try:
            request = await _read_request(reader)
            if request is None:
                return
            head, body, seen = request
            if self.mode == "blackhole":
                self._note(seen, "pass")
                await self._hang(reader)
                return
            action = self._action_for(seen)
            if action == "drop":
                return
            if isinstance(action, int):
                writer.write(_status_response(action))
                await writer.drain()
                return
            answer = await self._forward(head, body)
            if action == "lose-answer" or answer is None:
                return
            writer.write(answer)
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError):
            return
        finally:
            self._untrack(writer)

    def _action_for(self, seen: SeenRequest) -> Action:
        with self._lock:
            action: Action = "pass"
            for rule in self._rules:
                if rule.matches(seen):
                    action = rule.action
                    if rule.times is not None:
                        rule.times -= 1
                        if rule.times <= 0:
                            self._rules.remove(rule)
                    break
            self.requests.append(SeenRequest(seen.method, seen.path, seen.headers, action))
            return action

    def _note(self, seen: SeenRequest, action: Action) -> None:
        with self._lock:
            self.requests.append(SeenRequest(seen.method, seen.path, seen.headers, action))

    async def _forward(self, head: list[str], body: bytes) -> bytes | None:
        """One request on its own connection to the service (``Connection: close``), its whole
        answer read to the end."""
        assert self.tls is not None
        context = ssl.create_default_context(cafile=str(self.tls.cert))
        try:
            up_reader, up_writer = await asyncio.open_connection(
                "127.0.0.1",
                self.upstream_port,
                ssl=context,
                server_hostname=self.tls.server_hostname,
            )
        except OSError:
            return None
        self._track(up_writer)
        try:
            lines = [head[0]] + [line for line in head[1:] if not _named(line, "connection")]
            lines.append("Connection: close")
            up_writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            await up_writer.drain()
            return await up_reader.read(-1)
        except (OSError, ssl.SSLError):
            return None
        finally:
            self._untrack(up_writer)


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, ConnectionError):
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    writer.transport.abort()


async def _read_request(
    reader: asyncio.StreamReader,
) -> tuple[list[str], bytes, SeenRequest] | None:
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    head = raw.decode("latin-1").split("\r\n")[:-2]
    method, path, _ = head[0].split(" ", 2)
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", ""):
        raise NotImplementedError("chunked request bodies are not proxied")
    body = await reader.readexactly(int(headers.get("content-length") or 0))
    return head, body, SeenRequest(method, path, headers, "pass")


def _named(line: str, name: str) -> bool:
    return line.partition(":")[0].strip().lower() == name


def _status_response(status: int) -> bytes:
    body = json.dumps({"code": "ServiceUnavailable", "message": "Injected fault."}).encode()
    head = (
        f"HTTP/1.1 {status} Injected\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body
