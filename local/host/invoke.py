"""Calling a function as the Python worker does: its trigger's value under the binding name, a
``context`` when the function asks for one, and a log line with the outcome and duration."""

from __future__ import annotations

import inspect
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

from local.config import ROOT
from local.host.app import Triggered

log = logging.getLogger("familystory.host")

Invoke = Callable[[Triggered, Any], Awaitable[bool]]


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
        await run_in_threadpool(call_user_function, target, value)
    except Exception:
        log.exception("%s failed (%.1f ms)", target.name, (time.perf_counter() - started) * 1000)
        return False
    log.info("%s succeeded (%.1f ms)", target.name, (time.perf_counter() - started) * 1000)
    return True
