"""Every function run is one invocation of ``shared.telemetry``: its span under the host's trace
context, and its fields on the log records written meanwhile.

HTTP functions get this from ``endpoint``; timer, queue and Event Grid functions are declared
with ``traced`` under their trigger, and take the worker's ``context`` (annotated
``func.Context``, defaulting to None so that tests can call them without one).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from shared import telemetry

F = TypeVar("F", bound=Callable[..., Any])


def trace_context_of(context: Any) -> tuple[str | None, str | None]:
    """The W3C traceparent and tracestate the host passed with an invocation, if any."""
    trace_context = getattr(context, "trace_context", None)
    parent = getattr(trace_context, "trace_parent", None) or None
    state = getattr(trace_context, "trace_state", None) or None
    return parent, state


def traced(trigger: str) -> Callable[[F], F]:
    """Run the function as one invocation; ``trigger`` is its kind (``timer``, ``datasource``
    for queues and blobs, ``pubsub`` for Event Grid, as OpenTelemetry names them). An error that
    escapes is recorded on the span and goes on to the host, which retries as it would."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            context = kwargs.get("context")
            invocation_id = getattr(context, "invocation_id", None) or str(uuid.uuid4())
            parent, state = trace_context_of(context)
            with telemetry.invocation(function.__name__, invocation_id, trigger, parent, state):
                return function(*args, **kwargs)

        return run  # type: ignore[return-value]

    return decorate
