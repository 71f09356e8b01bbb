"""The local host runs functions on as many threads as PYTHON_THREADPOOL_THREAD_COUNT gives the
worker; invocations beyond that wait for a thread."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator

import pytest

from local.host import invoke
from local.host.invoke import run_function, use_worker_threads, worker_thread_count


@pytest.fixture(autouse=True)
def default_pool() -> Iterator[None]:
    yield
    invoke._worker_threads = None


def test_no_more_functions_run_at_once_than_the_worker_has_threads() -> None:
    running, most = 0, 0
    lock = threading.Lock()

    def function() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1

    async def twelve_invocations() -> None:
        use_worker_threads(3)
        await asyncio.gather(*(run_function(function) for _ in range(12)))

    asyncio.run(twelve_invocations())
    assert most == 3


@pytest.mark.parametrize(
    ("value", "threads"),
    [("4", 4), ("40", 40), ("", None), ("0", None), ("four", None)],
)
def test_the_thread_count_is_read_as_the_worker_reads_it(value: str, threads: int | None) -> None:
    default = min(32, (os.cpu_count() or 1) + 4)
    settings = {"PYTHON_THREADPOOL_THREAD_COUNT": value}

    assert worker_thread_count(settings) == (threads or default)
    assert worker_thread_count({}) == default
