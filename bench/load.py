"""Load: social workers' and family members' devices creating, changing, commenting and syncing
at once, against the app served over HTTP.

    python bench/load.py [--devices 50] [--seconds 60] [--seed 1] [--think-ms 100]
                         [--alone-actions 300] [--hosts 1]

(or ``LOAD_DEVICES``, ``LOAD_SECONDS``, ``LOAD_SEED``, ``LOAD_THINK_MS``, ``LOAD_HOSTS``).

1. Its own stack: fresh emulators on free ports, the database and containers, and the app served
   by the local host (``local/host/``) in its own process.
2. Provisioning through the API: staff profiles (an Admin), families created by a team manager
   and allocated to two social workers each, members, and invitations each family member redeems
   with their own token. Two fifths of the devices are social workers, the rest family members
   (three to a family; one belongs to two families).
3. Alone: the same devices act one at a time, with no pause (``--alone-actions``, default 300),
   while the host's CPU clock is read around every request: the host CPU per request of each
   operation and of the load's mix (the operations weighted as the load made them), and from it
   the ceiling of one host process, one request per CPU-second-per-request. These requests are
   also the latency baseline ("alone").
4. Load: every device, concurrently until the time is up: creates notes, agendas, plans and
   visits (family members: notes), changes them with ``If-Match``, comments, adds agenda items,
   shares and un-shares (staff), deletes, pushes queued operations through ``POST /sync`` (with
   opIds; some batches are sent twice), pulls with its sync token and reads lists and records.
5. Checks (see ``bench/_load_check.py``): no 5xx and no unexpected status; every acknowledged
   write held by the server (its version in the record's history) and read back through the API
   by the head of service; every device's copy after a final pull equal to what it may see; no
   duplicates; nothing held or sent that a device may not see.

The report states observed throughput as a share of that ceiling, loaded p95 against alone
p95, where the CPU of the machine went during the load (the host, the Cosmos DB server,
Azurite, the load generator, idle), and what the Cosmos DB server counted: TLS connections per
request and lost races (409 and 412 answers by collection; a 409 on ``audit`` is an audit
append that lost the race for its sequence number and was retried). ``--hosts 2`` serves the
app from two host processes against the same emulators, the devices split between them.

Exits 0 only when every check holds. ``measure()`` gives the figures as report rows: a run with
one host, then one with two.
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
from collections import defaultdict
from collections.abc import Callable, Iterator
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
from bench.support import (  # noqa: E402
    ProcessCpu,
    Row,
    cosmos_server_stats,
    emulator_stack,
    machine_cpu,
)

API = "/api/v1"
TEAM = "load-team"
TOKEN_SECONDS = 4 * 3600


@dataclass(frozen=True)
class Config:
    devices: int = 50
    seconds: float = 60.0
    seed: int = 1
    think: float = 0.1
    alone_actions: int = 300
    hosts: int = 1
    threads: int | None = None  # each host's PYTHON_THREADPOOL_THREAD_COUNT; None: the setting's


@dataclass(frozen=True)
class Cpu:
    """Where CPU went. ``alone``: per operation, requests measured alone and the host CPU seconds
    per request (less what the idle host spends meanwhile, ``idle`` cores); ``mix``: CPU seconds
    per request of the load's mix, from those; ``loaded``: host CPU seconds per request during
    the load; ``cores``: cores each part used during the load (the host processes, the Cosmos
    DB server, Azurite, the load generator, the machine's idle share, and what is left: other
    work on the machine)."""

    idle: float
    alone: dict[str, tuple[int, float]]
    mix: float
    loaded: float
    cores: dict[str, float]

    @property
    def ceiling(self) -> float:
        """Requests per second one host process can serve: one CPU second per ``mix``."""
        return 1 / self.mix if self.mix else 0.0


@dataclass
class Outcome:
    config: Config
    ledger: Ledger
    alone: list[Sample]
    load: list[Sample]
    elapsed: float
    problems: list[str]
    families: int = 0
    staff: int = 0
    members: int = 0
    records: int = 0
    cpu: Cpu | None = None
    server: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def connections_per_request(self) -> float:
        requests = self.server.get("requests", 0)
        return self.server.get("connections", 0) / requests if requests else 0.0

    @property
    def cosmos_per_request(self) -> float:
        """Cosmos DB requests per API request during the load."""
        return self.server.get("requests", 0) / len(self.load) if self.load else 0.0

    @property
    def audit_conflicts(self) -> int:
        """Audit appends that lost the race for their sequence number (each one retried)."""
        return int(self.server.get("answers", {}).get("409 POST audit", 0))

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
    parser.add_argument("--alone-actions", type=int, default=300)
    parser.add_argument("--hosts", type=int, default=int(env.get("LOAD_HOSTS", "1")))
    parser.add_argument(
        "--threads", type=int, default=None, help="each host's PYTHON_THREADPOOL_THREAD_COUNT"
    )
    args = parser.parse_args(argv)
    if args.devices < 4:
        parser.error("--devices must be at least 4")
    if args.hosts < 1:
        parser.error("--hosts must be at least 1")
    return Config(
        args.devices,
        args.seconds,
        args.seed,
        args.think_ms / 1000,
        args.alone_actions,
        args.hosts,
        args.threads,
    )


# --- the stack --------------------------------------------------------------------------------


# Each device is one caller working far faster than a person, whom the per-caller rate limits
# would refuse: the load host lifts them. Every request still pays for being counted.
UNLIMITED = {
    "RATE_LIMIT_FAMILY_WRITES": "1000000000",
    "RATE_LIMIT_STAFF_WRITES": "1000000000",
    "RATE_LIMIT_FAMILY_READS": "1000000000",
    "RATE_LIMIT_STAFF_READS": "1000000000",
}


@dataclass(frozen=True)
class Host:
    url: str
    pid: int


@contextmanager
def local_hosts(folder: Path, count: int = 1, threads: int | None = None) -> Iterator[list[Host]]:
    """The app served by ``count`` processes of the project's local host, each on its own port
    against the same emulators (``host-<n>.log`` in ``folder``), each with ``threads`` worker
    threads (default: the setting's)."""
    from local.emulators import free_port
    from local.run import provision

    provision()
    env = {**os.environ, "LOG_LEVEL": "WARNING", **UNLIMITED}
    if threads:
        env["PYTHON_THREADPOOL_THREAD_COUNT"] = str(threads)
    started: list[tuple[subprocess.Popen[bytes], Path, str]] = []
    try:
        for number in range(count):
            port = free_port()
            log = folder / f"host-{number}.log"
            with log.open("wb") as sink:
                process = subprocess.Popen(
                    [sys.executable, "-m", "local.host", "--port", str(port)],
                    cwd=ROOT,
                    env=env,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                )
            started.append((process, log, f"http://127.0.0.1:{port}"))
        for process, log, url in started:
            wait_until_serving(process, log, url)
        yield [Host(url, process.pid) for process, _, url in started]
    finally:
        for process, _, _ in started:
            process.terminate()
        for process, _, _ in started:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_serving(process: subprocess.Popen[bytes], log: Path, url: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the local host did not start:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}{API}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)


HOST_FAILURES = (" raised (invocation ", "unhandled error in ")


def host_errors(folder: Path) -> list[str]:
    """Functions that raised, each with the exception it ended with: the host logs those it
    turned into a 500, the app's own dispatch those it answered 500 itself (every host's log)."""
    found = []
    for log in sorted(folder.glob("host-*.log")):
        lines = log.read_text(errors="replace").splitlines()
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


class Meters:
    """CPU clocks read during a run: the host processes (summed), the emulators, this process
    (the load generator) and the machine."""

    def __init__(self, hosts: list[Host], emulators: dict[str, int]) -> None:
        self.hosts = [ProcessCpu(host.pid) for host in hosts]
        self.emulators = {name: ProcessCpu(pid) for name, pid in emulators.items()}

    def host(self) -> float:
        return sum(meter() for meter in self.hosts)

    def reading(self) -> dict[str, float]:
        _, idle = machine_cpu()
        return {
            "host": self.host(),
            **{name: meter() for name, meter in self.emulators.items()},
            "load generator": time.process_time(),
            "idle": idle,
            "wall": time.monotonic(),
        }


IDLE_SECONDS = 2.0


async def idle_rate(meter: Callable[[], float]) -> float:
    """Cores the host spends with no request (polling queues, watching blobs, timers)."""
    before, started = meter(), time.monotonic()
    await asyncio.sleep(IDLE_SECONDS)
    return (meter() - before) / (time.monotonic() - started)


def cpu_figures(
    idle: float,
    alone: list[Sample],
    load: list[Sample],
    before: dict[str, float],
    after: dict[str, float],
) -> Cpu:
    per_operation: dict[str, list[float]] = defaultdict(list)
    for sample in alone:
        if sample.status and sample.cpu is not None:
            per_operation[sample.operation].append(max(0.0, sample.cpu - idle * sample.seconds))
    measured = {name: (len(v), sum(v) / len(v)) for name, v in sorted(per_operation.items())}
    every = [value for values in per_operation.values() for value in values]
    fallback = sum(every) / len(every) if every else 0.0
    answered = [sample.operation for sample in load if sample.status]
    mix = (
        sum(measured.get(name, (0, fallback))[1] for name in answered) / len(answered)
        if answered
        else fallback
    )
    wall = after["wall"] - before["wall"]
    spent = {name: after[name] - before[name] for name in before if name != "wall"}
    cores = {name: value / wall for name, value in spent.items()} if wall else {}
    if cores:
        cores["other work"] = max(0.0, (os.cpu_count() or 1) - sum(cores.values()))
    loaded = spent["host"] / len(answered) if answered else 0.0
    return Cpu(idle, measured, mix, loaded, cores)


def difference(after: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """Counts of the Cosmos DB server gained between two readings."""
    answers = {
        key: value - before.get("answers", {}).get(key, 0)
        for key, value in after.get("answers", {}).items()
    }
    return {
        "connections": after["connections"] - before["connections"],
        "requests": after["requests"] - before["requests"],
        "answers": {key: value for key, value in sorted(answers.items()) if value},
    }


async def drive(hosts: list[Host], config: Config, meters: Meters) -> Outcome:
    rng = random.Random(config.seed)
    url = hosts[0].url
    async with client_for(url) as setup:
        cast = await provision(setup, config.devices)
    ledger = Ledger()
    budget = Budget()
    clients = [client_for(hosts[n % len(hosts)].url) for n in range(len(cast.people))]
    cpu = None
    try:
        devices = [
            Device(person, client, ledger, budget, random.Random(rng.random()))
            for person, client in zip(cast.people, clients, strict=True)
        ]
        await asyncio.gather(*(d.pull() for d in devices))
        mark = len(ledger.samples)
        idle = await idle_rate(meters.host) if config.alone_actions else 0.0
        for device in devices:
            device.meter = meters.host
        for action in range(config.alone_actions):
            await devices[action % len(devices)].step()
        for device in devices:
            device.meter = None
        alone = ledger.samples[mark:]
        server_before = await asyncio.to_thread(cosmos_server_stats)
        cpu_before = meters.reading()
        started = time.monotonic()
        mark = len(ledger.samples)
        deadline = started + config.seconds
        await asyncio.gather(*(d.run(deadline, config.think) for d in devices))
        elapsed = time.monotonic() - started
        cpu_after = meters.reading()
        server = difference(await asyncio.to_thread(cosmos_server_stats), server_before)
        load = ledger.samples[mark:]
        cpu = cpu_figures(idle, alone, load, cpu_before, cpu_after)
        await asyncio.gather(*(d.pull() for d in devices))
        served = await read_back(url, cast.auditor)
    finally:
        for client in clients:
            await client.aclose()
    server_held = server_documents(cast.families)
    copies = [d.copy for d in devices]
    problems = check(ledger, server_held, copies, served)
    outcome = Outcome(config, ledger, alone, load, elapsed, problems, cpu=cpu, server=server)
    outcome.families = len(cast.families)
    outcome.staff = sum(p.kind == "staff" for p in cast.people)
    outcome.members = sum(p.kind == "family" for p in cast.people)
    outcome.records = len(server_held)
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


def keep_host_logs(folder: Path) -> Path | None:
    """A copy of the hosts' logs that outlives the stack, for a run that failed."""
    logs = sorted(folder.glob("host-*.log"))
    if not logs:
        return None
    kept = Path(tempfile.mkdtemp(prefix="load-host-"))
    for log in logs:
        shutil.copyfile(log, kept / log.name)
    return kept


def run(config: Config) -> Outcome:
    from shared.bootstrap import reset_runtime

    with emulator_stack(COSMOS_DATABASE="load") as stack:
        folder = stack.folder
        reset_runtime()
        token("staff", str(uuid.uuid4()), "key")  # the issuer's key exists before the host reads it
        emulators = {
            name: process.pid
            for name, process in zip(
                ("Azurite", "Cosmos DB server"), stack.emulators.processes, strict=True
            )
        }
        try:
            with local_hosts(folder, config.hosts, config.threads) as hosts:
                outcome = asyncio.run(drive(hosts, config, Meters(hosts, emulators)))
        except BaseException:
            print(f"load run failed; the hosts' logs are kept in {keep_host_logs(folder)}")
            raise
        outcome.problems += host_errors(folder)
        if outcome.problems:
            outcome.extra["host log"] = str(keep_host_logs(folder))
        reset_runtime()
        return outcome


# --- the report -------------------------------------------------------------------------------


def by_name(rows: list[Latency]) -> dict[str, Latency]:
    return {row.operation: row for row in rows}


THROUGHPUT_TARGET = 0.75  # of the one-process ceiling
P95_TARGET = 15.0  # loaded p95 over alone p95
CONNECTIONS_TARGET = 0.01  # new TLS connections to the Cosmos DB server per request


def scope_of(config: Config) -> str:
    hosts = f"{config.hosts} host processes, " if config.hosts > 1 else ""
    return f"load, {hosts}{config.devices} devices x {config.seconds:.0f} s"


def met_word(met: bool) -> str:
    return "met" if met else "MISSED"


def cpu_lines(outcome: Outcome) -> list[str]:
    cpu = outcome.cpu
    if cpu is None or not cpu.alone:
        return []
    each = ", ".join(f"{name} {cost * 1000:.1f} ({n})" for name, (n, cost) in cpu.alone.items())
    lines = [
        "host CPU per request alone, ms (requests measured; the idle host's "
        f"{cpu.idle * 1000:.0f} ms/s taken off):",
        f"  {each}",
    ]
    ratio = outcome.throughput / cpu.ceiling if cpu.ceiling else 0.0
    lines.append(
        f"the load's mix: {cpu.mix * 1000:.1f} ms of host CPU per request alone, so one host "
        f"process serves at most {cpu.ceiling:.1f} req/s; observed {outcome.throughput:.1f} "
        f"req/s, {ratio:.2f} of it (target >= {THROUGHPUT_TARGET}: "
        f"{met_word(ratio >= THROUGHPUT_TARGET)})"
    )
    return lines


def per_host_core(outcome: Outcome) -> float:
    """Requests served per core the hosts got during the load: the ceiling's own measure,
    on the CPU the host was actually given (other work on the machine takes the rest)."""
    cpu = outcome.cpu
    cores = cpu.cores.get("host", 0.0) if cpu else 0.0
    return outcome.throughput / cores if cores else 0.0


def load_lines(outcome: Outcome) -> list[str]:
    lines: list[str] = []
    cpu = outcome.cpu
    if cpu is not None:
        cores = ", ".join(f"{name} {value:.2f}" for name, value in cpu.cores.items())
        lines.append(
            f"during the load: {cpu.loaded * 1000:.1f} ms of host CPU per request; cores used: "
            f"{cores} (of {os.cpu_count()}); {per_host_core(outcome):.1f} req/s per core the "
            "host got"
        )
    if outcome.server:
        races = ", ".join(f"{k} {v:,}" for k, v in outcome.server["answers"].items()) or "none"
        lines.append(
            f"Cosmos DB server during the load: {outcome.server['requests']:,} requests "
            f"({outcome.cosmos_per_request:.1f} per API request), "
            f"{outcome.server['connections']:,} new TLS connections "
            f"({outcome.connections_per_request:.4f} per request); lost races: {races}"
        )
    return lines


def report(outcome: Outcome) -> str:
    config = outcome.config
    loaded = by_name(latencies(outcome.load))
    alone = by_name(latencies(outcome.alone))
    hosts = f" served by {config.hosts} host processes" if config.hosts > 1 else ""
    threads = config.threads or int(os.environ.get("PYTHON_THREADPOOL_THREAD_COUNT") or 0)
    hosts += f" ({threads or 'default'} worker threads each)"
    lines = [
        f"Load: {config.devices} devices ({outcome.staff} social workers, {outcome.members} "
        f"family members, {outcome.families} families){hosts} for {outcome.elapsed:.1f} s, "
        f"think time up to {2 * config.think * 1000:.0f} ms",
        f"requests {len(outcome.load):,}, throughput {outcome.throughput:.1f} req/s; "
        f"acknowledged writes {len(outcome.ledger.acks):,}, conflicts (412/conflict) "
        f"{outcome.ledger.conflicts:,}, replays {outcome.ledger.replays:,}; records held "
        f"{outcome.records:,}",
        *(f"{name}: {value}" for name, value in outcome.extra.items() if name != "host log"),
        *cpu_lines(outcome),
        *load_lines(outcome),
        "",
        "latency in ms (answered requests); alone: the same devices acting one at a time before "
        "the load; ratio: loaded p95 / alone p95",
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
            lines.append(f"the hosts' logs are kept in {outcome.extra['host log']}")
    return "\n".join(lines)


def rows(outcome: Outcome, one_host: Outcome | None = None) -> list[Row]:
    """The report rows of a run; for a run with several hosts, ``one_host`` is the run with one
    that its throughput is measured against."""
    scope = scope_of(outcome.config)
    if outcome.config.hosts > 1:
        return several_hosts_rows(scope, outcome, one_host)
    loaded = by_name(latencies(outcome.load)).get("all")
    alone = by_name(latencies(outcome.alone)).get("all")
    cpu = outcome.cpu
    result = [Row(f"{scope}: throughput", round(outcome.throughput, 1), "req/s")]
    if cpu is not None and cpu.mix:
        result += [
            Row(
                f"{scope}: host CPU per request of the load's mix, measured alone",
                round(cpu.mix * 1000, 2),
                "ms",
            ),
            Row(
                f"{scope}: throughput vs one host process's ceiling (1 / CPU per request)",
                round(outcome.throughput, 1),
                "req/s",
                round(cpu.ceiling, 1),
                target=f"ratio >= {THROUGHPUT_TARGET}",
                met=outcome.throughput >= THROUGHPUT_TARGET * cpu.ceiling,
            ),
            Row(
                f"{scope}: throughput per core the host got vs the ceiling",
                round(per_host_core(outcome), 1),
                "req/s",
                round(cpu.ceiling, 1),
            ),
            Row(
                f"{scope}: cores the host got during the load",
                round(cpu.cores.get("host", 0.0), 2),
                "",
            ),
            Row(
                f"{scope}: host CPU per request during the load vs alone",
                round(cpu.loaded * 1000, 2),
                "ms",
                round(cpu.mix * 1000, 2),
            ),
        ]
    if loaded is not None:
        result.append(Row(f"{scope}: p50 latency, all requests", round(loaded.p50 * 1000, 1), "ms"))
        if alone is not None and alone.p95:
            result.append(
                Row(
                    f"{scope}: p95 latency vs the same devices alone (p95)",
                    round(loaded.p95 * 1000, 1),
                    "ms",
                    round(alone.p95 * 1000, 1),
                    target=f"ratio <= {P95_TARGET:.0f}",
                    met=loaded.p95 <= P95_TARGET * alone.p95,
                )
            )
        result.append(Row(f"{scope}: p99 latency, all requests", round(loaded.p99 * 1000, 1), "ms"))
    if outcome.server:
        result.append(
            Row(
                f"{scope}: Cosmos DB requests per API request",
                round(outcome.cosmos_per_request, 2),
                "",
            )
        )
        result.append(
            Row(
                f"{scope}: new TLS connections to the Cosmos DB server per request",
                round(outcome.connections_per_request, 4),
                "",
                target=f"<= {CONNECTIONS_TARGET}",
                met=outcome.connections_per_request <= CONNECTIONS_TARGET,
            )
        )
    result.append(invariants_row(scope, outcome))
    return result


def several_hosts_rows(scope: str, outcome: Outcome, one_host: Outcome | None) -> list[Row]:
    result = [
        Row(
            f"{scope}: throughput vs one host process",
            round(outcome.throughput, 1),
            "req/s",
            round(one_host.throughput, 1) if one_host else None,
            target="ratio >= 1" if one_host else "",
            met=outcome.throughput >= one_host.throughput if one_host else None,
        ),
        Row(
            f"{scope}: audit appends that lost a race and were retried (409 on audit)",
            outcome.audit_conflicts,
            "",
            target="0",
            met=outcome.audit_conflicts == 0,
        ),
    ]
    result.append(invariants_row(scope, outcome))
    return result


def invariants_row(scope: str, outcome: Outcome) -> Row:
    return Row(
        f"{scope}: broken invariants (5xx, lost writes, duplicates, leaks)",
        len(outcome.problems),
        "",
        target="0",
        met=outcome.ok,
    )


def measure() -> list[Row]:
    """A run with one host process, then one with two against the same kind of stack; each
    run's full report goes to stdout as it ends."""
    one = run(Config())
    print(report(one), flush=True)
    two = run(Config(hosts=2, alone_actions=0))
    print(report(two), flush=True)
    return rows(one) + rows(two, one)


def main(argv: list[str] | None = None) -> int:
    outcome = run(config_from(argv))
    print(report(outcome))
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
