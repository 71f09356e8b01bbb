"""Cosmos DB requests per API call, counted by the SDK's response hook (no guessing).

Starts its own emulators, seeds a family, then counts the requests of single-record reads and
writes, a comment, a three-operation sync push and one list page, with the per-instance caches
warm (steady state: each call made ``REPEAT`` times after a first one, the mean shown) and cold
(first call of a new instance). The access check and the audit event are included. The
caller's rate-limit counter is not in the per-call figures: a caller's writes are counted five
at a time per instance (``shared.caller_limits``), so its requests are shown once, per write
unit, in a row of their own. A partner agency's read of a record and of a page are counted too
(their grants are read on every request, never cached).
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
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

REPEAT = 10
TARGETS = {
    "GET one note": 2,
    "POST a note": 2,
    "PATCH one note": 3,
    "PATCH a shared note": 3,
    "POST a comment": 3,
    "POST /sync with 3 operations": 8,
}
WRITE_UNITS = {
    "PATCH one note": 1,
    "PATCH a shared note": 1,
    "POST a note": 1,
    "POST a comment": 1,
    "POST /sync with 3 operations": 3,
}


def main() -> int:
    print("Cosmos DB requests per API call (access check and audit included; a shared note's")
    print("correction also keeps the previous version, one write more)")
    print(format_table(measure()))
    return 0


def measure() -> list[Row]:
    with bench_stack(COSMOS_DATABASE="bench"):
        return run()


def run() -> list[Row]:
    from function_app import app
    from tests.functional.api import InProcessApi
    from tests.functional.world import build_world

    counter = RequestCounter()
    runtime = counting_runtime(counter)
    api = InProcessApi(app.get_functions())
    world = build_world(api)
    sw = world.token("social_worker")
    family = world.family
    notes = f"/families/{family}/notes"
    single = f"{notes}/{world.records['note_professionals']}"
    shared = f"{notes}/{world.records['note_family']}"
    partner = world.token("partner")
    for_partners = f"{notes}/{world.records['note_partners']}"
    comments = f"{notes}/{world.records['note_professionals']}/comments"

    def push() -> Any:
        operations = [
            {
                "opId": str(uuid.uuid4()),
                "type": "note",
                "action": "create",
                "id": str(uuid.uuid4()),
                "familyId": family,
                "data": {"body": "Written offline"},
            }
            for _ in range(3)
        ]
        return api.post("/sync", sw, {"operations": operations})

    def calls() -> dict[str, Callable[[], Any]]:
        edits = iter(range(10**6))
        return {
            "GET one note": lambda: api.get(single, sw),
            "PATCH one note": lambda: api.patch(single, sw, {"body": f"Edited {next(edits)}"}),
            "PATCH a shared note": lambda: api.patch(shared, sw, {"body": f"Fix {next(edits)}"}),
            "POST a note": lambda: api.post(notes, sw, {"body": "New"}),
            "POST a comment": lambda: api.post(comments, sw, {"body": "Noted"}),
            "POST /sync with 3 operations": push,
            "GET a page of notes": lambda: api.get(notes, sw, params={"limit": "50"}),
            "GET one note as a partner agency": lambda: api.get(for_partners, partner),
            "GET a page of notes as a partner agency": lambda: api.get(
                notes, partner, params={"limit": "50"}
            ),
        }

    def count(action: Callable[[], Any]) -> tuple[int, int]:
        """Requests of one call, the rate-limit counter's apart."""
        before, limits = counter.requests, counter.rate_limit_requests
        answer = action()
        assert answer.status < 300, (answer.status, answer.body)
        spent = counter.rate_limit_requests - limits
        return counter.requests - before - spent, spent

    warm: dict[str, float] = {}
    limit_requests = units = 0
    for name, action in calls().items():
        count(action)
        figures = [count(action) for _ in range(REPEAT)]
        warm[name] = sum(requests for requests, _ in figures) / REPEAT
        limit_requests += sum(spent for _, spent in figures)
        units += WRITE_UNITS.get(name, 0) * REPEAT
    reads = REPEAT * 2
    cold: dict[str, float] = {}
    for name, action in calls().items():
        runtime.family_cache.clear()
        runtime.profile_cache.clear()
        cold[name] = count(action)[0]

    rows = []
    for instance, counts in (("warm", warm), ("cold", cold)):
        for name, requests in counts.items():
            # The targets are the steady state: a warm instance's calls.
            target = TARGETS.get(name) if instance == "warm" else None
            rows.append(
                Row(
                    f"Cosmos DB requests per call: {name}, {instance} instance",
                    requests,
                    "",
                    target=f"<= {target}" if target is not None else "",
                    met=requests <= target if target is not None else None,
                )
            )
    rows.append(
        Row(
            "Cosmos DB rate-limit counter requests per write unit and read "
            f"({units} write units, {reads} reads, warm)",
            round(limit_requests / (units + reads), 3),
            "",
        )
    )
    return rows


if __name__ == "__main__":
    sys.exit(main())
