"""Load: social workers' and family members' devices creating, changing, commenting and syncing
at once, against the app served over HTTP.

    python bench/load.py [--devices 50] [--seconds 60] [--seed 1] [--think-ms 100]

(or ``LOAD_DEVICES``, ``LOAD_SECONDS``, ``LOAD_SEED``, ``LOAD_THINK_MS``).

1. Its own stack: fresh emulators on free ports, the database and containers, and the app served
   by the local host (``local/host/``) in its own process.
2. Provisioning through the API: staff profiles (an Admin), families created by a team manager
   and allocated to two social workers each, members, and invitations each family member redeems
   with their own token. Two fifths of the devices are social workers, the rest family members
   (three to a family; one belongs to two families).
3. Baseline: one device performs every operation in turn, alone, before the load.
4. Load: every device, concurrently until the time is up: creates notes, agendas, plans and
   visits (family members: notes), changes them with ``If-Match``, comments, adds agenda items,
   shares and un-shares (staff), deletes, pushes queued operations through ``POST /sync`` (with
   opIds; some batches are sent twice), pulls with its sync token and reads lists and records.
5. Checks (see ``bench/_load_check.py``): no 5xx and no unexpected status; every acknowledged
   write held by the server (its version in the record's history) and read back through the API
   by the head of service; every device's copy after a final pull equal to what it may see; no
   duplicates; nothing held or sent that a device may not see.

Exits 0 only when every check holds. ``measure()`` gives the figures as report rows.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._load_check import (  # noqa: E402
    SYNC_TYPES,
    Latency,
    Ledger,
    Sample,
    check,
    latencies,
)
from bench._load_devices import Budget, Device, Person  # noqa: E402
from bench.support import Row, bench_stack  # noqa: E402

API = "/api/v1"
TEAM = "load-team"
TOKEN_SECONDS = 4 * 3600


@dataclass(frozen=True)
class Config:
    devices: int = 50
    seconds: float = 60.0
    seed: int = 1
    think: float = 0.1
    baseline_rounds: int = 10


@dataclass
class Outcome:
    config: Config
    ledger: Ledger
    baseline: list[Sample]
    load: list[Sample]
    elapsed: float
    problems: list[str]
    families: int = 0
    staff: int = 0
    members: int = 0
    records: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def throughput(self) -> float:
        return len(self.load) / self.elapsed if self.elapsed else 0.0


def config_from(argv: list[str] | None = None) -> Config:
    env = os.environ
    parser = argparse.ArgumentParser(prog="python bench/load.py", description=__doc__)
    parser.add_argument("--devices", type=int, default=int(env.get("LOAD_DEVICES", "50")))
    parser.add_argument("--seconds", type=float, default=float(env.get("LOAD_SECONDS", "60")))
    parser.add_argument("--seed", type=int, default=int(env.get("LOAD_SEED", "1")))
    parser.add_argument("--think-ms", type=float, default=float(env.get("LOAD_THINK_MS", "100")))
    args = parser.parse_args(argv)
    if args.devices < 4:
        parser.error("--devices must be at least 4")
    return Config(args.devices, args.seconds, args.seed, args.think_ms / 1000)


# --- the stack --------------------------------------------------------------------------------


# Each device is one caller working far faster than a person, whom the per-caller rate limits
# would refuse: the load host lifts them. Every request still pays for being counted.
UNLIMITED = {
    "RATE_LIMIT_FAMILY_WRITES": "1000000000",
    "RATE_LIMIT_STAFF_WRITES": "1000000000",
    "RATE_LIMIT_FAMILY_READS": "1000000000",
    "RATE_LIMIT_STAFF_READS": "1000000000",
}


@contextmanager
def local_host(folder: Path) -> Iterator[str]:
    """The app served by the project's local host in its own process; yields its base URL."""
    from local.emulators import free_port
    from local.run import provision

    provision()
    port = free_port()
    log = folder / "host.log"
    env = {**os.environ, "LOG_LEVEL": "WARNING", **UNLIMITED}
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "local.host", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the local host did not start:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}{API}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


HOST_FAILURES = (" raised (invocation ", "unhandled error in ")


def host_errors(folder: Path) -> list[str]:
    """Functions that raised, each with the exception it ended with: the host logs those it
    turned into a 500, the app's own dispatch those it answered 500 itself."""
    log = folder / "host.log"
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    found = []
    for index, line in enumerate(lines):
        if any(mark in line for mark in HOST_FAILURES):
            cause = next(
                (
                    later.strip()
                    for later in lines[index + 1 :]
                    if later and not later[0].isspace() and not later.startswith("Traceback")
                ),
                "",
            )
            found.append(f"host: {line.strip()}" + (f": {cause}" if cause else ""))
    return found


# --- provisioning -----------------------------------------------------------------------------


def token(kind: str, oid: str, name: str, **claims: Any) -> str:
    from shared.dev_issuer import issue_token
    from shared.settings import get_settings

    payload = {"oid": oid, "sub": oid, "name": name, **claims}
    return issue_token(get_settings(), kind, payload, lifetime_seconds=TOKEN_SECONDS)  # type: ignore[arg-type]


def staff_token(oid: str, name: str, role: str) -> str:
    return token("staff", oid, name, roles=[role])


async def expect(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    if response.status_code not in statuses:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:300]}"
        )
    body: dict[str, Any] = response.json() if response.content else {}
    return body


@dataclass
class Cast:
    people: list[Person]
    families: list[str]
    auditor: Person
    resent: int = 0


async def provision(client: httpx.AsyncClient, devices: int) -> Cast:
    resent = 0

    async def send(
        method: str, path: str, body: dict[str, Any], headers: dict[str, str], *statuses: int
    ) -> dict[str, Any]:
        """Set-up requests, each safe to send again (a PUT, or a POST with the id it creates,
        whose repeat answers 200): one whose connection was dropped unanswered is resent. The
        load itself never resends; there an unanswered request is a broken invariant."""
        nonlocal resent
        for attempt in range(3):
            try:
                response = await client.request(method, path, json=body, headers=headers)
            except httpx.TransportError:
                if attempt == 2:
                    raise
                resent += 1
                continue
            return await expect(response, *statuses, *((200,) if attempt else ()))
        raise AssertionError("unreachable")

    admin = {"Authorization": f"Bearer {staff_token(str(uuid.uuid4()), 'Load Admin', 'Admin')}"}
    staff_count = max(2, devices * 2 // 5)
    family_count = devices - staff_count
    family_total = max(2, family_count // 3)

    async def profile(name: str, role: str) -> tuple[str, str]:
        oid = str(uuid.uuid4())
        body = {"displayName": name, "teamIds": [TEAM]}
        await send("PUT", f"/staff/{oid}", body, admin, 200, 201)
        return oid, staff_token(oid, name, role)

    _, manager_token = await profile("Load Manager", "TeamManager")
    manager = {"Authorization": f"Bearer {manager_token}"}
    auditor_oid, auditor_token = await profile("Load Auditor", "HeadOfService")
    workers = await asyncio.gather(
        *(profile(f"sw{n:02d}", "SocialWorker") for n in range(staff_count))
    )
    allocation: list[set[int]] = [set() for _ in range(family_total)]
    for index in range(staff_count):
        allocation[index % family_total].add(index)
        allocation[(index + 1) % family_total].add(index)

    async def family(number: int, allocated: set[int]) -> str:
        body = {
            "id": str(uuid.uuid4()),
            "displayName": f"Load family {number}",
            "teamId": TEAM,
            "workerIds": [workers[i][0] for i in sorted(allocated)],
        }
        made = await send("POST", "/families", body, manager, 201)
        return str(made["id"])

    families = list(await asyncio.gather(*(family(n, a) for n, a in enumerate(allocation))))
    people = [
        Person(
            f"sw{index:02d}",
            "staff",
            oid,
            worker_token,
            frozenset(families[f] for f in range(family_total) if index in allocation[f]),
        )
        for index, (oid, worker_token) in enumerate(workers)
    ]

    async def invite(family: str, name: str, claims: dict[str, Any], phone: str) -> None:
        member = {
            "id": str(uuid.uuid4()),
            "displayName": name,
            "relationship": "parent",
            "phone": phone,
        }
        made = await send("POST", f"/families/{family}/members", member, manager, 201)
        # A resent invitation is a second one for the member; only the one answered is used.
        invitation = await send(
            "POST", f"/families/{family}/invitations", {"memberId": made["id"]}, manager, 201
        )
        redeem = {"Authorization": f"Bearer {token('family', name=name, **claims)}"}
        await send("POST", "/invitations/redeem", {"code": invitation["code"]}, redeem, 200)

    async def family_member(index: int) -> Person:
        name = f"fm{index:02d}"
        oid = str(uuid.uuid4())
        phone = f"+447700900{index:03d}"
        claims = {"oid": oid, "phone_number": phone, "phone_number_verified": True}
        homes = [families[index % family_total]]
        if index == family_count - 1:
            homes.append(families[(index + 1) % family_total])
        for home in dict.fromkeys(homes):
            await invite(home, name, claims, phone)
        return Person(name, "family", oid, token("family", oid, name), frozenset(homes))

    people += await asyncio.gather(*(family_member(n) for n in range(family_count)))
    auditor = Person("auditor", "staff", auditor_oid, auditor_token, frozenset(families))
    return Cast(people, families, auditor, resent)


# --- the run ----------------------------------------------------------------------------------


# The local host (uvicorn) closes a connection idle for 5 s, and httpx keeps one for 5 s: a
# request sent on a connection as the server closes it gets no answer. Idle connections are
# dropped well before the server's limit.
KEEPALIVE_SECONDS = 1.0


def client_for(url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=url + API,
        timeout=httpx.Timeout(120.0),
        limits=httpx.Limits(keepalive_expiry=KEEPALIVE_SECONDS),
    )


async def drive(url: str, config: Config) -> Outcome:
    rng = random.Random(config.seed)
    async with client_for(url) as setup:
        cast = await provision(setup, config.devices)
    ledger = Ledger()
    budget = Budget()
    clients = [client_for(url) for _ in cast.people]
    try:
        devices = [
            Device(person, client, ledger, budget, random.Random(rng.random()))
            for person, client in zip(cast.people, clients, strict=True)
        ]
        first = devices[0]
        await first.pull()
        await first.baseline(config.baseline_rounds)
        baseline = list(ledger.samples)
        await asyncio.gather(*(d.pull() for d in devices[1:]))
        started = time.monotonic()
        mark = len(ledger.samples)
        deadline = started + config.seconds
        await asyncio.gather(*(d.run(deadline, config.think) for d in devices))
        elapsed = time.monotonic() - started
        load = ledger.samples[mark:]
        await asyncio.gather(*(d.pull() for d in devices))
        served = await read_back(url, cast.auditor)
    finally:
        for client in clients:
            await client.aclose()
    server = server_documents(cast.families)
    copies = [d.copy for d in devices]
    problems = check(ledger, server, copies, served)
    outcome = Outcome(config, ledger, baseline, load, elapsed, problems)
    outcome.families = len(cast.families)
    outcome.staff = sum(p.kind == "staff" for p in cast.people)
    outcome.members = sum(p.kind == "family" for p in cast.people)
    outcome.records = len(server)
    if cast.resent:
        outcome.extra["set-up requests resent"] = cast.resent
    return outcome


async def read_back(url: str, auditor: Person) -> dict[str, str]:
    """Every record the head of service is served by a full snapshot, id -> version."""
    async with client_for(url) as client:
        reader = Device(auditor, client, Ledger(), Budget(), random.Random(0))
        if not await reader.pull():
            raise RuntimeError(f"read back failed: {reader.ledger.problems}")
        return {record_id: str(c["version"]) for record_id, c in reader.copy.holdings.items()}


def server_documents(families: list[str]) -> dict[str, dict[str, Any]]:
    """The raw documents of every family, tombstones included, straight from the database."""
    from shared.bootstrap import get_runtime, reset_runtime
    from shared.storage_layout import RECORDS

    reset_runtime()
    container = get_runtime().database.get_container_client(RECORDS.name)
    documents: dict[str, dict[str, Any]] = {}
    for family in families:
        rows = container.query_items(
            "SELECT * FROM c WHERE c.familyId = @f",
            parameters=[{"name": "@f", "value": family}],
            partition_key=family,
        )
        documents.update({str(r["id"]): dict(r) for r in rows if r.get("type") in SYNC_TYPES})
    return documents


def keep_host_log(folder: Path) -> Path | None:
    """A copy of the host's log that outlives the stack, for a run that failed."""
    log = folder / "host.log"
    if not log.exists():
        return None
    kept = Path(tempfile.mkdtemp(prefix="load-host-")) / "host.log"
    shutil.copyfile(log, kept)
    return kept


def run(config: Config) -> Outcome:
    from shared.bootstrap import reset_runtime

    with bench_stack(COSMOS_DATABASE="load") as folder:
        reset_runtime()
        token("staff", str(uuid.uuid4()), "key")  # the issuer's key exists before the host reads it
        try:
            with local_host(folder) as url:
                outcome = asyncio.run(drive(url, config))
        except BaseException:
            print(f"load run failed; the host's log is kept at {keep_host_log(folder)}")
            raise
        outcome.problems += host_errors(folder)
        if outcome.problems:
            outcome.extra["host log"] = str(keep_host_log(folder))
        reset_runtime()
        return outcome


# --- the report -------------------------------------------------------------------------------


def by_name(rows: list[Latency]) -> dict[str, Latency]:
    return {row.operation: row for row in rows}


def report(outcome: Outcome) -> str:
    config = outcome.config
    loaded = by_name(latencies(outcome.load))
    alone = by_name(latencies(outcome.baseline))
    lines = [
        f"Load: {config.devices} devices ({outcome.staff} social workers, {outcome.members} "
        f"family members, {outcome.families} families) for {outcome.elapsed:.1f} s, "
        f"think time up to {2 * config.think * 1000:.0f} ms",
        f"requests {len(outcome.load):,}, throughput {outcome.throughput:.1f} req/s; "
        f"acknowledged writes {len(outcome.ledger.acks):,}, conflicts (412/conflict) "
        f"{outcome.ledger.conflicts:,}, replays {outcome.ledger.replays:,}; records held "
        f"{outcome.records:,}",
        *(f"{name}: {value}" for name, value in outcome.extra.items() if name != "host log"),
        "",
        "latency in ms (answered requests); alone: the same operations by one device before the "
        "load; ratio: loaded p95 / alone p95",
        f"{'operation':<10}{'count':>8}{'p50':>9}{'p95':>9}{'p99':>9}"
        f"{'alone p50':>11}{'alone p95':>11}{'ratio':>8}",
    ]
    for name, row in loaded.items():
        base = alone.get(name)
        ratio = f"{row.p95 / base.p95:.1f}" if base and base.p95 else ""
        lines.append(
            f"{name:<10}{row.count:>8,}{row.p50 * 1000:>9.0f}{row.p95 * 1000:>9.0f}"
            f"{row.p99 * 1000:>9.0f}"
            f"{(f'{base.p50 * 1000:.0f}' if base else ''):>11}"
            f"{(f'{base.p95 * 1000:.0f}' if base else ''):>11}{ratio:>8}"
        )
    lines.append("")
    if outcome.ok:
        lines.append(
            "every check holds: no 5xx, no lost write, every device's copy is what it may see, "
            "no duplicate, no leak"
        )
    else:
        lines.append(f"{len(outcome.problems)} problems:")
        lines += [f"  {p}" for p in outcome.problems[:50]]
        if len(outcome.problems) > 50:
            lines.append(f"  ... and {len(outcome.problems) - 50} more")
        if "host log" in outcome.extra:
            lines.append(f"the host's log is kept at {outcome.extra['host log']}")
    return "\n".join(lines)


def rows(outcome: Outcome) -> list[Row]:
    config = outcome.config
    loaded = by_name(latencies(outcome.load)).get("all")
    alone = by_name(latencies(outcome.baseline)).get("all")
    scope = f"load, {config.devices} devices x {config.seconds:.0f} s"
    result = [Row(f"{scope}: throughput", round(outcome.throughput, 1), "req/s")]
    if loaded is not None:
        result += [
            Row(f"{scope}: p50 latency, all requests", round(loaded.p50 * 1000, 1), "ms"),
            Row(
                f"{scope}: p95 latency vs one device alone (p95)",
                round(loaded.p95 * 1000, 1),
                "ms",
                round(alone.p95 * 1000, 1) if alone else None,
            ),
            Row(f"{scope}: p99 latency, all requests", round(loaded.p99 * 1000, 1), "ms"),
        ]
    result.append(
        Row(
            f"{scope}: broken invariants (5xx, lost writes, duplicates, leaks)",
            len(outcome.problems),
            "",
            target="0",
            met=outcome.ok,
        )
    )
    return result


def measure() -> list[Row]:
    return rows(run(Config()))


def main(argv: list[str] | None = None) -> int:
    outcome = run(config_from(argv))
    print(report(outcome))
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
