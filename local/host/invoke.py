"""Calling a function as the Python worker does: its trigger's value under the binding name, a
``context`` when the function asks for one, and a log line with the outcome and duration.

The worker runs synchronous functions on one thread pool of ``PYTHON_THREADPOOL_THREAD_COUNT``
threads (unset: a ``ThreadPoolExecutor``'s default, min(32, CPUs + 4)); invocations beyond that
wait for a thread. ``use_worker_threads`` sizes the local host's pool the same way; the host's
own work (polling queues, watching blobs, delivering events) runs beside it, as the real host's
does outside the worker.
"""

from __future__ import annotations

import inspect
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio.to_thread
from anyio import CapacityLimiter

from local.config import ROOT
from local.host.app import Triggered

log = logging.getLogger("familystory.host")

Invoke = Callable[[Triggered, Any], Awaitable[bool]]

THREAD_COUNT_SETTING = "PYTHON_THREADPOOL_THREAD_COUNT"
_worker_threads: CapacityLimiter | None = None


def worker_thread_count(settings: Mapping[str, str]) -> int:
    """The worker's pool size: the setting when it is a whole number from 1 up (the worker
    ignores anything else with a warning), else the default of ``ThreadPoolExecutor``."""
    value = settings.get(THREAD_COUNT_SETTING, "").strip()
    if value:
        try:
            count = int(value)
        except ValueError:
            count = 0
        if count >= 1:
            return count
        log.warning("%s must be a whole number from 1 up; using the default", THREAD_COUNT_SETTING)
    return min(32, (os.cpu_count() or 1) + 4)


def use_worker_threads(count: int) -> None:
    """Run functions on at most ``count`` threads at once (call inside the host's event loop)."""
    global _worker_threads
    _worker_threads = CapacityLimiter(count)


async def run_function(target: Any, *args: Any) -> Any:
    """``target(*args)`` on one of the worker's threads."""
    return await anyio.to_thread.run_sync(target, *args, limiter=_worker_threads)


class TraceContext:
    """The W3C trace context the worker hands a function: here the caller's own ``traceparent``
    (the real host passes its request span's, itself a child of the caller's)."""

    def __init__(self, trace_parent: str = "", trace_state: str = "") -> None:
        self.trace_parent = trace_parent
        self.trace_state = trace_state
        self.attributes: dict[str, str] = {}


class Invocation:
    """What a function's ``context`` parameter receives."""

    def __init__(self, function_name: str, trace_context: TraceContext | None = None) -> None:
        self.invocation_id = str(uuid.uuid4())
        self.function_name = function_name
        self.function_directory = str(ROOT)
        self.trace_context = trace_context or TraceContext()
        self.retry_context = None
        self.thread_local_storage = None


def call_user_function(
    target: Triggered, value: Any, trace_context: TraceContext | None = None
) -> Any:
    parameters = inspect.signature(target.function).parameters
    arguments: dict[str, Any] = {target.binding: value}
    if "context" in parameters:
        arguments["context"] = Invocation(target.name, trace_context)
    return target.function(**arguments)


async def invoke_logged(target: Triggered, value: Any) -> bool:
    """Runs the function off the event loop; whether it succeeded (a failure is logged)."""
    started = time.perf_counter()
    try:
        await run_function(call_user_function, target, value)
    except Exception:
        log.exception("%s failed (%.1f ms)", target.name, (time.perf_counter() - started) * 1000)
        return False
    log.info("%s succeeded (%.1f ms)", target.name, (time.perf_counter() - started) * 1000)
    return True
