"""The SDK clients' transport, against the emulators: connections kept and reused, a pool as
large as the worker's threads, and a proxy only when ``OUTBOUND_PROXY_URL`` names one, never
from the environment.

Connections to Cosmos DB are counted by the local server (``/_emulator/stats``), those to
Azurite by urllib3's own log line for each new connection.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from local.emulators import Emulators
from shared.adapters.transport import pool_size
from shared.bootstrap import get_runtime, reset_runtime
from tests.http_proxy import forward_proxy, url_of

THREADS = 40
CALLS_PER_THREAD = 15
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")


def cosmos_stats(emulators: Emulators) -> dict[str, Any]:
    verify = ssl.create_default_context(cafile=str(emulators.certificate))
    response = httpx.get(f"{emulators.cosmos_endpoint}/_emulator/stats", verify=verify)
    response.raise_for_status()
    stats: dict[str, Any] = response.json()
    return stats


def at_once(call: Callable[[], object], threads: int, calls: int) -> None:
    """``calls`` calls on each of ``threads`` threads, all starting together."""
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def work() -> None:
        start.wait()
        try:
            for _ in range(calls):
                call()
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert failures == []


def test_one_thread_sends_every_request_on_one_connection(stack: Emulators) -> None:
    database = get_runtime().database
    database.read()
    before = cosmos_stats(stack)
    for _ in range(30):
        database.read()
    after = cosmos_stats(stack)
    # The SDK may refresh the account's metadata in the background meanwhile: a request or two.
    assert 30 <= after["requests"] - before["requests"] <= 32
    assert after["connections"] - before["connections"] <= 1  # not one a request


def test_every_worker_thread_keeps_its_cosmos_connection(
    stack: Emulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    """azure-core's own pool keeps 10 connections: threads beyond the tenth opened a connection
    (and a TLS handshake) for their requests and dropped it after each."""
    monkeypatch.setenv("PYTHON_THREADPOOL_THREAD_COUNT", str(THREADS))
    reset_runtime()
    runtime = get_runtime()
    runtime.database.read()
    before = cosmos_stats(stack)
    at_once(runtime.database.read, THREADS, CALLS_PER_THREAD)
    after = cosmos_stats(stack)
    # The SDK may refresh the account's metadata in the background meanwhile: a request or two.
    made = after["requests"] - before["requests"]
    assert THREADS * CALLS_PER_THREAD <= made <= THREADS * CALLS_PER_THREAD + 2
    assert after["connections"] - before["connections"] <= pool_size(runtime.settings)


def test_every_worker_thread_keeps_its_storage_connection(
    stack: Emulators, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Each thread opens at most one connection, and none is dropped for want of room in the
    pool (urllib3 says so when it drops one)."""
    monkeypatch.setenv("PYTHON_THREADPOOL_THREAD_COUNT", str(THREADS))
    reset_runtime()
    runtime = get_runtime()
    container = runtime.blob_service.get_container_client("uploads")
    container.exists()
    with caplog.at_level(logging.DEBUG, logger="urllib3.connectionpool"):
        at_once(container.exists, THREADS, CALLS_PER_THREAD)
    messages = [record.getMessage() for record in caplog.records]
    assert len([m for m in messages if m.startswith("Starting new HTTP")]) <= THREADS
    assert [m for m in messages if m.startswith("Connection pool is full")] == []


def test_proxy_variables_in_the_environment_are_never_read(
    stack: Emulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    with forward_proxy() as proxy:
        for name in PROXY_VARIABLES:
            monkeypatch.setenv(name, url_of(proxy))
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        reset_runtime()
        runtime = get_runtime()
        runtime.database.read()
        runtime.blob_service.get_container_client("uploads").exists()
        assert proxy.seen == []


def test_the_outbound_proxy_setting_carries_every_call(
    stack: Emulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cosmos DB through a CONNECT tunnel; Storage (plain HTTP locally) is asked of the proxy,
    which refuses to forward it."""
    from azure.core.exceptions import HttpResponseError

    with forward_proxy() as proxy:
        monkeypatch.setenv("OUTBOUND_PROXY_URL", url_of(proxy))
        monkeypatch.setenv("STORAGE_RETRY_TOTAL", "0")
        reset_runtime()
        runtime = get_runtime()
        runtime.database.read()
        tunnels = [line for line in proxy.seen if line.startswith("CONNECT ")]
        assert tunnels
        assert all(line.split(" ")[1] == f"localhost:{stack.ports.cosmos}" for line in tunnels)
        with pytest.raises(HttpResponseError) as refused:
            runtime.blob_service.get_container_client("uploads").exists()
        assert refused.value.status_code == 502
        blob = f"http://127.0.0.1:{stack.ports.blob}/"
        assert any(line.split(" ")[1].startswith(blob) for line in proxy.seen)


def test_the_local_cosmos_server_closes_a_connection_when_a_request_asks_it_to(
    stack: Emulators,
) -> None:
    """It keeps connections open, but HTTP lets a client ask for the answer's end to be the
    connection's end (the fault proxy's forwarding reads answers that way)."""
    context = ssl.create_default_context(cafile=str(stack.certificate))
    request = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    raw = socket.create_connection(("127.0.0.1", stack.ports.cosmos), timeout=10)
    with context.wrap_socket(raw, server_hostname="localhost") as tls:
        tls.sendall(request)
        answer = b""
        while chunk := tls.recv(65536):
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    assert head.startswith("http/1.1 200")
    assert "connection: close" in head
