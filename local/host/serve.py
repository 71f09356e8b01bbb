"""The local host's wiring: load the app, check it as the real runtime would, and run its
functions (HTTP and the Event Grid webhook, queues, blobs and blob events, timers) in one
process, ``python -m local.host --port 7071 --app function_app``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime

import azure.functions as func

from local.host.app import load_app
from local.host.blobs import BlobWatcher, blob_event_sources, blob_functions
from local.host.cors import CorsPolicy
from local.host.eventgrid import (
    DeliveryRules,
    EventGrid,
    event_grid_functions,
    host_keys,
    keys_path,
)
from local.host.http import build_asgi
from local.host.invoke import invoke_logged, use_worker_threads, worker_thread_count
from local.host.queues import QueueListener, QueueOptions, queue_functions
from local.host.rules import check_registration
from local.host.timers import run_timer, timer_functions
from local.subscriptions import (
    BLOB_CREATED_SUBSCRIPTIONS,
    BlobCreatedSubscription,
    FunctionDestination,
    QueueDestination,
)

KEEP_ALIVE_SECONDS = 75


def served_subscriptions(
    subscriptions: tuple[BlobCreatedSubscription, ...],
    functions: list[func.Function],
    queues: list[str],
) -> tuple[BlobCreatedSubscription, ...]:
    """The subscriptions whose destination this app serves (a test app serves none of them)."""
    event_functions = {f.name for f in event_grid_functions(functions)}
    return tuple(
        s
        for s in subscriptions
        if (
            isinstance(s.destination, FunctionDestination)
            and s.destination.function in event_functions
        )
        or (isinstance(s.destination, QueueDestination) and s.destination.queue in queues)
    )


async def serve(
    port: int,
    settings: Mapping[str, str],
    host: str = "127.0.0.1",
    app: str = "function_app",
    subscriptions: tuple[BlobCreatedSubscription, ...] = BLOB_CREATED_SUBSCRIPTIONS,
    cors: CorsPolicy | None = None,
) -> None:
    import uvicorn

    functions = load_app(app).get_functions()  # the library allows one call per app
    use_worker_threads(worker_thread_count(settings))
    check_registration(functions, settings)
    keys = host_keys(keys_path(settings))
    asgi, webhook = build_asgi(functions, keys, cors)
    rules = DeliveryRules.from_environment(settings)
    listeners = [
        QueueListener(
            function,
            settings,
            QueueOptions.from_host_json(time_scale=rules.time_scale),
            invoke_logged,
        )
        for function in queue_functions(functions, settings)
    ]
    served = served_subscriptions(
        subscriptions, functions, [listener.function.queue for listener in listeners]
    )
    events = EventGrid(webhook, settings, rules)
    tasks: list[asyncio.Task[None]] = []
    blobs = blob_functions(functions) + blob_event_sources(served)
    if blobs:
        tasks.append(asyncio.create_task(BlobWatcher(blobs, settings, events).run()))
    for listener in listeners:
        tasks.append(asyncio.create_task(listener.run()))
    for timer in timer_functions(functions, settings):
        tasks.append(asyncio.create_task(run_timer(timer, lambda: datetime.now(UTC))))
    config = uvicorn.Config(
        asgi,
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        # Longer than clients keep idle connections (httpx: 5 s, uvicorn's own default), so a
        # client never reuses a connection the host is closing at that very moment.
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    server = uvicorn.Server(config)
    try:
        await server.serve()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    for noisy in ("azure", "uvicorn.error"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main() -> None:
    import argparse

    from local.config import apply_local_settings

    parser = argparse.ArgumentParser(
        prog="python -m local.host", description="Run function_app.py locally."
    )
    parser.add_argument("--port", type=int, default=7071)
    parser.add_argument("--app", default="function_app", help="module holding the FunctionApp")
    args = parser.parse_args()
    settings = apply_local_settings()
    configure_logging(os.environ.get("LOG_LEVEL", "INFO"))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, {**settings, **os.environ}, app=args.app))
