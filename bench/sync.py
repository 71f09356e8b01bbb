"""Sync cost against the emulators: a 10,000-record caseload (25 families x 400 records).

(a) A full snapshot through the API (time and bytes) against reading the same 10,000 documents
    with the SDK in the same run. Target: within 1.5x the raw read time.
(b) A delta pull after one change: bytes and Cosmos DB requests against the full snapshot.
    Target: under 1% of the snapshot's bytes, in one query page.

Every pull re-sends the changes of its overlap window (see shared/sync/pull.py); the bench sets
the window to 2 s and waits it out after seeding, so (b) shows the steady state of a device that
syncs more than a window after the last burst of writes.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.support import (  # noqa: E402
    RequestCounter,
    Row,
    bench_stack,
    counting_runtime,
    format_table,
)

FAMILIES = 25
PER_FAMILY = 400
OVERLAP_SECONDS = 2
ROUNDS = 3
SNAPSHOT_TARGET = 1.5
DELTA_TARGET = 0.01


def main() -> int:
    print(f"Sync, {FAMILIES} families x {PER_FAMILY} records")
    print(format_table(measure()))
    return 0


def measure() -> list[Row]:
    with bench_stack(COSMOS_DATABASE="bench", SYNC_OVERLAP_SECONDS=str(OVERLAP_SECONDS)):
        return run()


def seed(container: Any, worker: str) -> list[str]:
    now = "2026-11-26T12:00:00.000Z"
    actor = {"id": worker, "name": "Bench Worker", "kind": "staff"}
    stamp = {
        "createdAt": now,
        "createdBy": actor,
        "updatedAt": now,
        "updatedBy": actor,
        "deleted": False,
    }
    families = [str(uuid.uuid4()) for _ in range(FAMILIES)]
    documents: list[dict[str, Any]] = []
    for family in families:
        documents.append(
            {
                "id": family,
                "familyId": family,
                "type": "family",
                "displayName": "Bench family",
                "teamId": "bench",
                "workerIds": [worker],
                **stamp,
            }
        )
        for index in range(PER_FAMILY - 1):
            documents.append(
                {
                    "id": str(uuid.uuid4()),
                    "familyId": family,
                    "type": "note",
                    "body": f"Visit note {index}: " + "words " * 40,
                    "visibility": "professionals",
                    "everShared": False,
                    **stamp,
                }
            )
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(container.create_item, documents))
    return families


def run() -> list[Row]:
    from function_app import app
    from shared.storage_layout import RECORDS
    from tests.functional.api import InProcessApi
    from tests.tokens import staff_token

    counter = RequestCounter()
    runtime = counting_runtime(counter)
    worker = str(uuid.uuid4())
    container = runtime.database.get_container_client(RECORDS.name)
    families = seed(container, worker)
    token = staff_token("SocialWorker", oid=worker)
    api = InProcessApi(app.get_functions())

    def raw_read() -> int:
        rows = container.query_items(
            "SELECT * FROM c WHERE ARRAY_CONTAINS(@f, c.familyId)",
            parameters=[{"name": "@f", "value": families}],
            enable_cross_partition_query=True,
            max_item_count=1000,
        )
        return sum(1 for _ in rows)

    def snapshot() -> tuple[float, int, int, str]:
        """Seconds of server work (each page's body produced, not parsed), bytes, records."""
        since: str | None = None
        elapsed = 0.0
        total_bytes = records = 0
        while True:
            params = {"limit": "1000", **({"since": since} if since else {})}
            started = time.perf_counter()
            response = api.get("/sync", token, params=params, parse=False)
            elapsed += time.perf_counter() - started
            total_bytes += len(response.raw)
            page = json.loads(response.raw)
            records += len(page["changes"])
            since = page["next"]
            if not page["more"]:
                return elapsed, total_bytes, records, since

    raw_read()
    snapshot()
    raw_times, snap_times = [], []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        raw_count = raw_read()
        raw_times.append(time.perf_counter() - started)
        snap_time_one, snap_bytes, snap_records, since = snapshot()
        snap_times.append(snap_time_one)
    raw_time, snap_time = min(raw_times), min(snap_times)

    time.sleep(OVERLAP_SECONDS + 1.5)
    settled = api.get("/sync", token, params={"since": since}).body["next"]
    time.sleep(OVERLAP_SECONDS + 1.5)
    settled = api.get("/sync", token, params={"since": settled}).body["next"]
    api.post(f"/families/{families[0]}/notes", token, {"body": "One change"})
    before = counter.requests
    delta = api.get("/sync", token, params={"since": settled})
    delta_requests = counter.requests - before
    delta_bytes = len(delta.raw)

    delta_changes = len(delta.body["changes"])
    return [
        Row(
            f"sync: full snapshot of {snap_records:,} records vs raw SDK read of {raw_count:,} "
            f"(best of {ROUNDS})",
            snap_time,
            "s",
            baseline=raw_time,
            target=f"ratio <= {SNAPSHOT_TARGET}",
            met=snap_time / raw_time <= SNAPSHOT_TARGET,
        ),
        Row(
            "sync: delta after one change, bytes vs the full snapshot's",
            delta_bytes,
            "B",
            baseline=snap_bytes,
            target=f"ratio < {DELTA_TARGET}",
            met=delta_bytes / snap_bytes < DELTA_TARGET,
        ),
        Row("sync: delta after one change, changes returned", delta_changes, ""),
        Row("sync: delta after one change, Cosmos DB requests", delta_requests, ""),
    ]


if __name__ == "__main__":
    sys.exit(main())
