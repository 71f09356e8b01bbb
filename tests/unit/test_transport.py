"""The SDK transport's settings: the pool follows the worker's threads, and a proxy comes from
``OUTBOUND_PROXY_URL`` alone. Its behaviour against the emulators is in
``tests/functional/test_transport.py``."""

from __future__ import annotations

import os
from typing import Any

import pytest

from shared.adapters.transport import PARALLEL_CALLS_PER_REQUEST, build_transport, pool_size
from shared.settings import Settings


def test_the_pool_holds_a_connection_for_each_worker_thread_and_the_calls_it_fans_out() -> None:
    settings = Settings.model_validate({"PYTHON_THREADPOOL_THREAD_COUNT": "24"})
    transport = build_transport(settings)
    adapter = transport.session.get_adapter("https://account.documents.azure.com/")

    assert pool_size(settings) == 24 + PARALLEL_CALLS_PER_REQUEST
    assert adapter._pool_maxsize == pool_size(settings)


def test_environment_settings_are_off_and_no_proxy_is_set_unless_asked_for() -> None:
    session = build_transport(Settings()).session

    assert session.trust_env is False
    assert session.proxies == {}


def test_the_outbound_proxy_setting_serves_every_scheme() -> None:
    settings = Settings.model_validate(
        {"OUTBOUND_PROXY_URL": " http://proxy.borough.example:3128 "}
    )
    session = build_transport(settings).session

    assert session.proxies == {
        "http": "http://proxy.borough.example:3128",
        "https": "http://proxy.borough.example:3128",
    }


@pytest.mark.parametrize(
    ("value", "threads"),
    [("16", 16), (" 8 ", 8), ("1", 1), ("", None), ("0", None), ("-2", None), ("many", None)],
)
def test_the_thread_count_is_read_as_the_worker_reads_it(value: str, threads: int | None) -> None:
    """A whole number from 1 up, else the worker's default: a ThreadPoolExecutor's own size."""
    settings = Settings.model_validate({"PYTHON_THREADPOOL_THREAD_COUNT": value})

    assert settings.python_threadpool_thread_count == threads
    assert settings.worker_threads == (threads or min(32, (os.cpu_count() or 1) + 4))


def test_a_storage_outage_is_retried_within_seconds_not_after_the_sdks_eighteen() -> None:
    from shared.adapters.blobs import build_blob_service

    settings = Settings.model_validate(
        {
            "MEDIA_STORAGE": "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
            "AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;",
            "STORAGE_RETRY_TOTAL": "3",
        }
    )
    policy: Any = build_blob_service(settings)._config.retry_policy
    waits = {
        retry: [policy.get_backoff_time({"count": retry}) for _ in range(200)]
        for retry in (1, 2, 3)
    }

    assert policy.total_retries == 3
    assert all(1 <= wait <= 3 for wait in waits[1])
    assert all(3 <= wait <= 5 for wait in waits[2])
    assert all(7 <= wait <= 9 for wait in waits[3])


def test_the_clients_timeouts_and_certificate_reach_their_transports() -> None:
    """A client given a transport no longer builds one from its own options: they must be the
    transport's, or a hung service is waited on for azure-core's 300 s."""
    from shared.adapters.blobs import build_blob_service

    settings = Settings.model_validate(
        {
            "MEDIA_STORAGE": "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
            "AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;",
            "STORAGE_CONNECT_TIMEOUT_SECONDS": "3",
            "STORAGE_READ_TIMEOUT_SECONDS": "7",
        }
    )
    transport: Any = build_blob_service(settings)._pipeline._transport
    blob = transport.connection_config
    other = build_transport(settings, connection_verify="/ca.pem", read_timeout=2.5)

    assert (blob.timeout, blob.read_timeout) == (3.0, 7.0)
    assert (other.connection_config.verify, other.connection_config.read_timeout) == (
        "/ca.pem",
        2.5,
    )
