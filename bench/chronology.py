"""The chronology of a family with 2,000 records against the emulators.

The chronology is built from the records at each request (``shared/records/chronology.py``),
never kept as a copy. Its records come from one query (``RecordStore.chronology_rows``): the
target is that this query is one Cosmos DB request for a family of 2,000 records. Reported too:
the requests of the whole ``GET .../chronology`` (access check, audit event), and its time
against reading the same family's documents raw with the SDK in the same run (best of 3).
"""

from __future__ import annotations

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

RECORDS = 2000
ROUNDS = 3
QUERY_TARGET = 1


def main() -> int:
    print(f"Chronology of a family of {RECORDS:,} records")
    print(format_table(measure()))
    return 0


def measure() -> list[Row]:
    with bench_stack(COSMOS_DATABASE="bench"):
        return run()


def seed(container: Any, family: str, worker: str) -> int:
    """A family's records: members, visits (half completed with an outcome), notes, plans,
    media and chronology events, a tenth of the notes, plans and media marked significant."""
    actor = {"id": worker, "name": "Bench Worker", "kind": "staff"}

    def record(record_type: str, index: int, **fields: Any) -> dict[str, Any]:
        day = f"2026-{1 + index % 12:02d}-{1 + index % 28:02d}"
        moment = f"{day}T10:{index % 60:02d}:00.000Z"
        return {
            "id": str(uuid.uuid4()), "familyId": family, "type": record_type, "createdAt": moment,
            "createdBy": actor, "updatedAt": moment, "updatedBy": actor, "deleted": False,
            **fields,
        }  # fmt: skip

    children = [record("member", i, displayName=f"Child {i}", child=True) for i in range(3)]
    documents = [
        record("family", 0, id=family, displayName="Bench family", teamId="bench",
               workerIds=[worker]),
        *children,
    ]  # fmt: skip
    outcome = {"happened": True, "childrenSeen": [
        {"memberId": children[0]["id"], "seen": True, "seenAlone": True}]}  # fmt: skip
    for i in range(300):
        documents.append(
            record("visit", i, startsAt=f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T15:00:00Z",
                   endsAt=f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T16:00:00Z", location="Home",
                   status="completed" if i % 2 else "scheduled",
                   **({"outcome": outcome} if i % 2 else {}))
        )  # fmt: skip
    kinds = [("note", 1200), ("plan", 200), ("media", 247), ("chronologyEvent", 50)]
    for kind, count in kinds:
        for i in range(count):
            fields: dict[str, Any] = {"visibility": "family", "significant": i % 10 == 0}
            if kind == "note":
                fields["body"] = f"Note {i}: " + "words " * 40
            elif kind == "plan":
                fields |= {"title": f"Plan {i}", "actions": []}
            elif kind == "media":
                fields |= {"kind": "photo", "caption": f"Photo {i}", "status": "ready"}
            else:
                fields = {"visibility": "professionals", "date": "2026-05-01",
                          "category": "health", "summary": f"Event {i}"}  # fmt: skip
            documents.append(record(kind, i, **fields))
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(container.create_item, documents))
    return len(documents) - 1


def run() -> list[Row]:
    from function_app import app
    from shared.storage_layout import RECORDS as RECORDS_CONTAINER
    from tests.functional.api import InProcessApi
    from tests.tokens import staff_token

    counter = RequestCounter()
    runtime = counting_runtime(counter)
    worker = str(uuid.uuid4())
    family = str(uuid.uuid4())
    container = runtime.database.get_container_client(RECORDS_CONTAINER.name)
    held = seed(container, family, worker)
    token = staff_token("SocialWorker", oid=worker)
    api = InProcessApi(app.get_functions())
    path = f"/families/{family}/chronology"

    def raw_read() -> int:
        rows = container.query_items(
            "SELECT * FROM c WHERE c.familyId = @f",
            parameters=[{"name": "@f", "value": family}],
            partition_key=family,
            max_item_count=5000,
        )
        return sum(1 for _ in rows)

    query_requests: list[int] = []
    real = runtime.records.chronology_rows

    def counted(family_id: str) -> list[dict[str, Any]]:
        before = counter.requests
        try:
            return real(family_id)
        finally:
            query_requests.append(counter.requests - before)

    runtime.records.chronology_rows = counted  # type: ignore[method-assign]
    api.get(path, token)  # warm: the caller's profile and the family are cached per instance
    raw_read()
    raw_times, ours, calls = [], [], []
    items = 0
    for _ in range(ROUNDS):
        started = time.perf_counter()
        raw_count = raw_read()
        raw_times.append(time.perf_counter() - started)
        before = counter.requests
        started = time.perf_counter()
        answer = api.get(path, token)
        ours.append(time.perf_counter() - started)
        calls.append(counter.requests - before)
        assert answer.status == 200, answer.body
        items = len(answer.body["items"])
    return [
        Row(
            f"chronology of a family of {held:,} records: Cosmos DB requests of its query",
            max(query_requests[1:]),
            "",
            target=f"<= {QUERY_TARGET}",
            met=max(query_requests[1:]) <= QUERY_TARGET,
        ),
        Row(
            f"chronology of a family of {held:,} records: Cosmos DB requests of the whole call "
            "(access, audit), warm instance",
            max(calls),
            "",
        ),
        Row(f"chronology of a family of {held:,} records: items", items, ""),
        Row(
            f"chronology of a family of {held:,} records vs raw SDK read of its {raw_count:,} "
            f"documents (best of {ROUNDS})",
            min(ours) * 1000,
            "ms",
            baseline=min(raw_times) * 1000,
        ),
    ]


if __name__ == "__main__":
    sys.exit(main())
