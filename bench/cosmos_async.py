"""Sync or async Cosmos DB client: the client's CPU per request and its latency, alone and with
requests in parallel, against the local Cosmos DB server.

One request makes the Cosmos DB calls a typical API write makes: a point read, a create and a
query of one partition (ten documents). The same requests go through

- the sync client (``azure.cosmos``, ``requests``), built as the app builds it
  (``shared.adapters.cosmos``, the app's transport), from ``PARALLEL`` threads, and
- the async client (``azure.cosmos.aio``, ``aiohttp``), from ``PARALLEL`` tasks on one event
  loop,

first one at a time, then ``PARALLEL`` at once, each for ``REQUESTS`` requests after a warm-up;
the two clients take turns, ``ROUNDS`` times, and each figure is the median of its rounds (other
work on the machine comes and goes). CPU is this process's (``time.process_time``: every
thread), per request. The question it
answers (README, "Load"): would ``azure.cosmos.aio`` and async functions lower the host's CPU
per request or its latency under load? There is no target: the figures decide.

    python bench/cosmos_async.py
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.support import Row, bench_stack, format_table  # noqa: E402

PARALLEL = 16
REQUESTS = 600
ALONE_REQUESTS = 150
ROUNDS = 3
WARM_UP = 50
FAMILY = "bench-family"
SEEDED = 200


@dataclass(frozen=True)
class Figures:
    """One client in one mode: CPU seconds per request, latencies in seconds, requests/s."""

    cpu: float
    p50: float
    p95: float
    throughput: float


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def figures(latencies: list[float], cpu: float, wall: float) -> Figures:
    return Figures(
        cpu / len(latencies),
        statistics.median(latencies),
        percentile(latencies, 0.95),
        len(latencies) / wall,
    )


def event(number: int, family: str = "") -> dict[str, Any]:
    """A document of 400-odd bytes."""
    return {
        "id": str(uuid.uuid4()),
        "familyId": family or f"bench-events-{number % 64}",
        "type": "bench",
        "n": number,
        "body": "x" * 400,
    }


QUERY = "SELECT TOP 10 * FROM c WHERE c.familyId = @f AND c.type = 'seed' ORDER BY c.n DESC"
PARAMETERS: list[dict[str, object]] = [{"name": "@f", "value": FAMILY}]


# Reads and queries go to the seeded container, creates to another: the emulator scans a
# container to answer a query (it has no index), so the one queried keeps its size throughout
# and neither client's turn is slowed by the documents the other created.
READS, WRITES = "records", "audit"


def sync_request(containers: tuple[Any, Any], seeded: list[str], number: int) -> None:
    reads, writes = containers
    reads.read_item(seeded[number % len(seeded)], partition_key=FAMILY)
    writes.create_item(event(number))
    list(reads.query_items(QUERY, parameters=PARAMETERS, partition_key=FAMILY))


async def aio_request(containers: tuple[Any, Any], seeded: list[str], number: int) -> None:
    reads, writes = containers
    await reads.read_item(seeded[number % len(seeded)], partition_key=FAMILY)
    await writes.create_item(event(number))
    rows = reads.query_items(QUERY, parameters=PARAMETERS, partition_key=FAMILY)
    [row async for row in rows]


def run_sync(containers: tuple[Any, Any], seeded: list[str], parallel: int, total: int) -> Figures:
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(total))

    def worker() -> None:
        while True:
            with lock:
                number = next(counter, None)
            if number is None:
                return
            started = time.perf_counter()
            sync_request(containers, seeded, number)
            took = time.perf_counter() - started
            with lock:
                latencies.append(took)

    for number in range(WARM_UP):
        sync_request(containers, seeded, number)
    cpu, wall = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        for future in [pool.submit(worker) for _ in range(parallel)]:
            future.result()
    return figures(latencies, time.process_time() - cpu, time.perf_counter() - wall)


async def run_aio(request: Callable[[int], Awaitable[None]], parallel: int, total: int) -> Figures:
    latencies: list[float] = []
    counter = iter(range(total))

    async def worker() -> None:
        for number in counter:
            started = time.perf_counter()
            await request(number)
            latencies.append(time.perf_counter() - started)

    for number in range(WARM_UP):
        await request(number)
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(parallel)))
    return figures(latencies, time.process_time() - cpu, time.perf_counter() - wall)


async def aio_figures(settings: Any, seeded: list[str]) -> dict[str, Figures]:
    from azure.cosmos.aio import CosmosClient

    options: dict[str, Any] = {
        "connection_timeout": settings.cosmos_connect_timeout_seconds,
        "read_timeout": settings.cosmos_read_timeout_seconds,
        "enable_endpoint_discovery": False,
    }
    if settings.cosmos_ca_certificate:
        options["connection_verify"] = settings.cosmos_ca_certificate
    async with CosmosClient(settings.cosmos_endpoint, settings.cosmos_key, **options) as client:
        database = client.get_database_client(settings.cosmos_database)
        containers = (
            database.get_container_client(READS),
            database.get_container_client(WRITES),
        )

        async def request(number: int) -> None:
            await aio_request(containers, seeded, number)

        return {
            "alone": await run_aio(request, 1, ALONE_REQUESTS),
            "parallel": await run_aio(request, PARALLEL, REQUESTS),
        }


def sync_figures(containers: tuple[Any, Any], seeded: list[str]) -> dict[str, Figures]:
    return {
        "alone": run_sync(containers, seeded, 1, ALONE_REQUESTS),
        "parallel": run_sync(containers, seeded, PARALLEL, REQUESTS),
    }


def median_of(rounds: list[dict[str, Figures]]) -> dict[str, Figures]:
    return {
        mode: Figures(
            *(
                statistics.median(getattr(one[mode], name) for one in rounds)
                for name in ("cpu", "p50", "p95", "throughput")
            )
        )
        for mode in rounds[0]
    }


def run() -> tuple[dict[str, Figures], dict[str, Figures]]:
    from shared.adapters.cosmos import build_cosmos_client, provision_database
    from shared.settings import Settings

    settings = Settings()
    client = build_cosmos_client(settings)
    database = provision_database(client, settings.cosmos_database)
    containers = (database.get_container_client(READS), database.get_container_client(WRITES))
    seeded = []
    for number in range(SEEDED):
        document = {**event(number, FAMILY), "type": "seed"}
        containers[0].create_item(document)
        seeded.append(str(document["id"]))
    sync: list[dict[str, Figures]] = []
    aio: list[dict[str, Figures]] = []
    for _ in range(ROUNDS):
        sync.append(sync_figures(containers, seeded))
        aio.append(asyncio.run(aio_figures(settings, seeded)))
    return median_of(sync), median_of(aio)


def rows(sync: dict[str, Figures], aio: dict[str, Figures]) -> list[Row]:
    scope = "Cosmos DB client, async (aio) vs sync, read + create + query per request"
    many = f"{PARALLEL} at once"
    return [
        Row(
            f"{scope}: client CPU per request, one at a time",
            round(aio["alone"].cpu * 1000, 2),
            "ms",
            round(sync["alone"].cpu * 1000, 2),
        ),
        Row(
            f"{scope}: client CPU per request, {many}",
            round(aio["parallel"].cpu * 1000, 2),
            "ms",
            round(sync["parallel"].cpu * 1000, 2),
        ),
        Row(
            f"{scope}: p95 latency, one at a time",
            round(aio["alone"].p95 * 1000, 1),
            "ms",
            round(sync["alone"].p95 * 1000, 1),
        ),
        Row(
            f"{scope}: p95 latency, {many}",
            round(aio["parallel"].p95 * 1000, 1),
            "ms",
            round(sync["parallel"].p95 * 1000, 1),
        ),
        Row(
            f"{scope}: throughput, {many}",
            round(aio["parallel"].throughput, 1),
            "req/s",
            round(sync["parallel"].throughput, 1),
        ),
    ]


def measure() -> list[Row]:
    with bench_stack(COSMOS_DATABASE="clients"):
        return rows(*run())


def main() -> int:
    print(format_table(measure()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
