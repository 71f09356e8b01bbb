"""Safety alerts: what raising one costs, and what the every-minute follow-up costs when idle.

Starts its own emulators and seeds a family whose allocated worker and team manager have phones
(texts go to the local outbox). Counts Cosmos DB requests with the SDK's response hook: a
``POST .../safety-alerts`` that texts two staff members at once, a follow-up run with nothing
due (what every minute costs a borough), and the run that escalates one alert. The idle run is
one query whatever the number of alerts held, because only alerts still owed work carry
``followUpAt``: target 1 request. Times are wall-clock on the emulators.
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
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

ALERTS_HELD = 200
RAISES = 9


def main() -> int:
    print(format_table(measure()))
    return 0


def measure() -> list[Row]:
    with bench_stack(COSMOS_DATABASE="bench-safety", SAFETY_DUTY_PHONE="+447700900999"):
        return run()


def run() -> list[Row]:
    from function_app import app
    from shared.reminders.memory import FrozenClock
    from shared.safety import alerts
    from tests.functional.api import InProcessApi
    from tests.functional.world import build_world, link_family_member
    from tests.tokens import staff_token

    counter = RequestCounter()
    runtime = counting_runtime(counter)
    clock = FrozenClock(runtime.clock())
    runtime.clock = clock
    api = InProcessApi(app.get_functions())
    world = build_world(api)
    admin = world.token("admin")
    team = world.team_a
    for person, phone in (("social_worker", "+447700900801"), ("team_manager", "+447700900802")):
        who = world.people[person]
        body = {"displayName": who.name, "teamIds": [team], "phone": phone}
        api.put(f"/staff/{who.oid}", admin, body)
    api.get("/me", staff_token("TeamManager", oid=world.people["team_manager"].oid))
    runtime.profile_cache.clear()

    children = []
    for _ in range(RAISES):
        family = api.post(
            "/families", world.token("social_worker"), {"displayName": "F", "teamId": team}
        ).body
        member = api.post(
            f"/families/{family['id']}/members",
            world.token("social_worker"),
            {"displayName": "Ash", "relationship": "son"},
        ).body
        children.append(
            (family["id"], link_family_member(family["id"], member["id"], "+447700900803").token)
        )

    def count(action: Callable[[], Any]) -> tuple[int, float]:
        before = counter.requests
        started = time.perf_counter()
        action()
        return counter.requests - before, (time.perf_counter() - started) * 1000

    def raiser(path: str, token: str) -> Callable[[], Any]:
        return lambda: api.post(path, token, {"id": str(uuid.uuid4())})

    raises = [count(raiser(f"/families/{fid}/safety-alerts", child)) for fid, child in children]
    family_id = children[0][0]
    for _ in range(ALERTS_HELD - len(children)):
        held = {
            "id": str(uuid.uuid4()),
            "familyId": family_id,
            "type": "safetyAlert",
            "status": "acknowledged",
            "followUpAt": None,
            "deleted": False,
        }
        runtime.records.create(held)
    idle = count(lambda: alerts.follow_up_due(runtime))
    clock.advance(timedelta(minutes=runtime.settings.safety_ack_minutes + 1))
    escalating = count(lambda: alerts.follow_up_due(runtime))

    requests = statistics.median(r for r, _ in raises)
    millis = statistics.median(m for _, m in raises)
    return [
        Row("safety alert: POST texting 2 staff, Cosmos DB requests (median)", requests, ""),
        Row("safety alert: POST texting 2 staff, time on the emulators (median)", millis, "ms"),
        Row(
            f"safety alert: idle follow-up run, {ALERTS_HELD} alerts held, Cosmos DB requests",
            idle[0],
            "",
            target="<= 1",
            met=idle[0] <= 1,
        ),
        Row(
            f"safety alert: follow-up run escalating {RAISES} alerts, Cosmos DB requests",
            escalating[0],
            "",
        ),
    ]


if __name__ == "__main__":
    sys.exit(main())
