"""What the pilot evaluation costs in Cosmos DB requests: one call for 20 teams x 52 weeks, the
hourly update after a change and with none, and a rebuild of the year.

Starts its own emulators and seeds a year straight into Cosmos DB (threads, not the API): 20
teams of 3 families, each family with, every week, a note shared with the family, a note of
the family's own and a completed visit (9,360 records). Requests are counted by the SDK's
response hook.

Targets: a call reads the figures in at most 3 requests, whatever the weeks and teams (a query
of the ``evaluation`` container, a page per 1,000 team-weeks); the update after one change
recounts only the weeks that change can move, so it costs a few requests more than the update
with nothing changed, not a rebuild.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.support import RequestCounter, Row, bench_stack, format_table  # noqa: E402

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
TEAMS, FAMILIES_PER_TEAM, WEEKS = 20, 3, 52
FIRST = (NOW - timedelta(weeks=WEEKS - 1)).date()
SEED_THREADS = 32
CALL_TARGET = 3


def main() -> int:
    rows = measure()
    print()
    print(f"Pilot evaluation, {TEAMS} teams x {WEEKS} weeks (Cosmos DB emulator)")
    print(format_table(rows))
    return 0


def measure() -> list[Row]:
    with bench_stack(COSMOS_DATABASE="bench-evaluation"):
        return run()


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def documents() -> tuple[list[str], list[dict[str, Any]]]:
    teams = [str(uuid.uuid4()) for _ in range(TEAMS)]
    made: list[dict[str, Any]] = []
    staff = {"id": str(uuid.uuid4()), "name": "Sam Patel", "kind": "staff"}
    parent = {"id": str(uuid.uuid4()), "name": "Pat Doe", "kind": "family"}
    for team in teams:
        for _ in range(FAMILIES_PER_TEAM):
            family = str(uuid.uuid4())
            made.append({"id": family, "familyId": family, "type": "family", "teamId": team,
                         "displayName": "Doe", "deleted": False})  # fmt: skip
            for week in range(WEEKS):
                at = datetime.combine(FIRST, datetime.min.time(), UTC) + timedelta(
                    weeks=week, days=1, hours=10
                )
                made += [
                    record(family, "note", createdAt=stamp(at), createdBy=staff,
                           visibility="family", body="Visit"),
                    record(family, "note", createdAt=stamp(at), createdBy=parent,
                           visibility="family", body="Ours"),
                    record(family, "visit", startsAt=stamp(at), status="completed",
                           endsAt=stamp(at + timedelta(hours=1)), createdAt=stamp(at)),
                ]  # fmt: skip
    return teams, made


def record(family: str, kind: str, **fields: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "familyId": family, "type": kind, "deleted": False, **fields}


def run() -> list[Row]:
    from shared.access import Caller
    from shared.adapters.cosmos import build_cosmos_client, provision_database
    from shared.bootstrap import get_runtime, reset_runtime
    from shared.evaluation import service as evaluation
    from shared.identity import Principal
    from shared.reminders.memory import FrozenClock
    from shared.storage_layout import RECORDS

    reset_runtime()
    runtime = get_runtime()
    counter = RequestCounter()
    runtime.cosmos_client = build_cosmos_client(runtime.settings, raw_response_hook=counter)
    runtime.clock = FrozenClock(NOW)
    provision_database(runtime.cosmos_client, runtime.settings.cosmos_database)
    records = runtime.database.get_container_client(RECORDS.name)
    teams, seeded = documents()
    started = time.perf_counter()
    with ThreadPoolExecutor(SEED_THREADS) as pool:
        list(pool.map(records.create_item, seeded))
    print(f"seeded {len(seeded):,} records in {time.perf_counter() - started:.1f} s", flush=True)

    def counted(action: Callable[[], Any]) -> tuple[int, float, Any]:
        before = counter.requests
        began = time.perf_counter()
        result = action()
        return counter.requests - before, time.perf_counter() - began, result

    tenant = runtime.settings.staff_tenant_id
    head = Caller(
        Principal(tenant, str(uuid.uuid4()), "Chris", "staff", frozenset({"HeadOfService"}))
    )
    manager = Caller(
        Principal(tenant, str(uuid.uuid4()), "Ali", "staff", frozenset({"TeamManager"})),
        team_ids=frozenset({teams[0]}),
    )
    last = NOW.date()
    first_update = counted(lambda: evaluation.update(runtime))
    rebuild = counted(lambda: evaluation.rebuild(runtime, FIRST, last))
    call = counted(
        lambda: evaluation.read_evaluation(runtime, head, FIRST.isoformat(), last.isoformat(), None)
    )
    own = counted(
        lambda: evaluation.read_evaluation(
            runtime, manager, FIRST.isoformat(), last.isoformat(), None
        )
    )
    # An update re-reads the writes of the last OVERLAP_SECONDS before its watermark while they
    # are that recent; an hour later, as the timer runs, the seeding is long past that.
    runtime.clock = FrozenClock(NOW + timedelta(hours=1))
    quiet = counted(lambda: evaluation.update(runtime))
    records.create_item(record(seeded[0]["id"], "note", createdAt=stamp(NOW), visibility="family",
                               createdBy={"id": "x", "name": "Sam", "kind": "staff"}))  # fmt: skip
    time.sleep(1.1)  # past the second of the watermark
    changed = counted(lambda: evaluation.update(runtime))

    figures = call[2]
    assert isinstance(figures, dict)
    assert len(figures["teams"]) == TEAMS
    assert len(figures["teams"][0]["weeks"]) >= WEEKS
    assert changed[2].team_weeks == 1, changed[2]
    label = f"evaluation, {TEAMS} teams x {WEEKS} weeks"
    return [
        Row(f"{label}: one call, every team (Cosmos DB requests)", call[0], "",
            target=f"<= {CALL_TARGET}", met=call[0] <= CALL_TARGET),
        Row(f"{label}: one call, a team manager's team (Cosmos DB requests)", own[0], "",
            target=f"<= {CALL_TARGET}", met=own[0] <= CALL_TARGET),
        Row(f"{label}: one call, every team (time on the emulator)", call[1] * 1000, "ms"),
        Row(f"{label}: hourly update, one note changed (Cosmos DB requests)", changed[0], "",
            baseline=quiet[0], target="a few more than none changed (ratio < 3)",
            met=changed[0] < 3 * max(quiet[0], 1)),
        Row(f"{label}: hourly update, nothing changed (Cosmos DB requests)", quiet[0], ""),
        Row(f"{label}: rebuild of the year (Cosmos DB requests)", rebuild[0], ""),
        Row(f"{label}: rebuild of the year (time on the emulator)", rebuild[1] * 1000, "ms"),
        Row(f"{label}: first update, every record new (Cosmos DB requests)", first_update[0], ""),
    ]  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
