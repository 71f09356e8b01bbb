"""What a reminder run reads: 10 due visits among 100, against 10 due among 10,000.

Starts its own emulators, seeds two databases straight into Cosmos DB (threads, not the API):
families of two members (one opted in), 10 visits starting 24 hours from the frozen clock and
the rest spread over the coming year. Then times the timer's work (``run_reminders``, as the
function calls it) twice in each: the first run texts the 10 families, the second finds
everything claimed. Cosmos DB responses are counted by the SDK's response hook: requests,
documents returned (``x-ms-item-count``) and request units (``x-ms-request-charge``).

Target: the same order of documents read in both, since the due-visit query is a range on
``startsAt``. The local emulator has no indexes and scans every document for a query, so its
time grows with the data; Cosmos DB serves the range from its index.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.support import Row, bench_stack, format_table  # noqa: E402

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
DUE = 10
VISITS_PER_FAMILY = 10
SEED_THREADS = 32
SMALL, LARGE = 100, 10_000
SAME_ORDER = 10


@dataclass
class Reads:
    requests: int = 0
    items: int = 0
    charge: float = 0.0


class Counter:
    def __init__(self) -> None:
        self.total = Reads()
        self._lock = threading.Lock()

    def __call__(self, response: Any) -> None:
        headers = response.http_response.headers
        with self._lock:
            self.total.requests += 1
            self.total.items += int(headers.get("x-ms-item-count") or 0)
            self.total.charge += float(headers.get("x-ms-request-charge") or 0)

    def measure(self, action: Callable[[], Any]) -> tuple[Reads, float, Any]:
        before = Reads(**self.total.__dict__)
        started = time.perf_counter()
        result = action()
        elapsed = time.perf_counter() - started
        after = self.total
        used = Reads(
            after.requests - before.requests,
            after.items - before.items,
            after.charge - before.charge,
        )
        return used, elapsed, result


def main() -> int:
    rows = measure()
    print()
    print(f"Reminder run, {DUE} visits due (Cosmos DB emulator; documents = items returned)")
    print(format_table(rows))
    return 0


def measure() -> list[Row]:
    with bench_stack():
        results = {total: scenario(total) for total in (SMALL, LARGE)}
    return report(results)


def documents(total: int) -> list[dict[str, Any]]:
    """Members and visits: ``DUE`` visits 24 h ahead, the rest over the coming year."""
    from shared.records.store import now_iso

    made: list[dict[str, Any]] = []
    for index in range(total // VISITS_PER_FAMILY):
        family = str(uuid.uuid4())
        phone = f"+4477009{index % 100000:05d}"
        for name, opted_in in (("Pat Doe", True), ("Lee Doe", False)):
            member = {"displayName": name, "smsReminders": opted_in, "phone": phone}
            made.append(record(family, "member", **member))
        for number in range(VISITS_PER_FAMILY):
            due = index < DUE and number == 0
            offset = timedelta(hours=24) if due else timedelta(days=2 + (index * 7 + number) % 360)
            starts = NOW + offset
            ends = starts + timedelta(hours=1)
            visit = {"startsAt": now_iso(starts), "endsAt": now_iso(ends), "status": "scheduled"}
            made.append(record(family, "visit", **visit))
    return made


def record(family: str, kind: str, **fields: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "familyId": family, "type": kind, "deleted": False, **fields}


def scenario(total: int) -> list[tuple[Reads, float, Any]]:
    from shared.adapters.cosmos import build_cosmos_client, provision_database
    from shared.bootstrap import get_runtime, reset_runtime
    from shared.reminders.memory import FrozenClock
    from shared.reminders.notifications import run_reminders
    from shared.sms.memory import MemorySmsSender
    from shared.storage_layout import RECORDS

    os.environ["COSMOS_DATABASE"] = f"bench-reminders-{total}"
    reset_runtime()
    runtime = get_runtime()
    counter = Counter()
    runtime.cosmos_client = build_cosmos_client(runtime.settings, raw_response_hook=counter)
    runtime.clock = FrozenClock(NOW)
    runtime.sms_sender = MemorySmsSender()
    provision_database(runtime.cosmos_client, runtime.settings.cosmos_database)
    container = runtime.database.get_container_client(RECORDS.name)
    started = time.perf_counter()
    with ThreadPoolExecutor(SEED_THREADS) as pool:
        list(pool.map(container.create_item, documents(total)))
    print(f"seeded {total} visits in {time.perf_counter() - started:.1f} s", flush=True)
    runs = [counter.measure(lambda: run_reminders(runtime)) for _ in range(2)]
    for _, _, outcome in runs:
        assert outcome.visits == DUE, outcome
    return runs


def report(results: dict[int, list[tuple[Reads, float, Any]]]) -> list[Row]:
    """Each run with 10,000 visits held against the same run with 100."""
    rows = []
    for index, label in enumerate(("first", "second")):
        small_reads, small_elapsed, small_outcome = results[SMALL][index]
        large_reads, large_elapsed, large_outcome = results[LARGE][index]
        run = f"reminders, {LARGE:,} visits held vs {SMALL:,}: {label} run"
        rows += [
            Row(f"{run}, texts sent", large_outcome.sent, "", baseline=small_outcome.sent),
            Row(
                f"{run}, documents read",
                large_reads.items,
                "",
                baseline=small_reads.items,
                target=f"same order (ratio < {SAME_ORDER})",
                met=large_reads.items < SAME_ORDER * max(small_reads.items, 1),
            ),
            Row(
                f"{run}, Cosmos DB requests",
                large_reads.requests,
                "",
                baseline=small_reads.requests,
            ),
            Row(f"{run}, request units", large_reads.charge, "RU", baseline=small_reads.charge),
            Row(
                f"{run}, time on the emulator",
                large_elapsed * 1000,
                "ms",
                baseline=small_elapsed * 1000,
            ),
        ]
    return rows


if __name__ == "__main__":
    sys.exit(main())
