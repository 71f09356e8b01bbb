"""What every benchmark needs: its own emulators, settings pointing at them, a counting client,
and the rows of the report with the table that shows them."""

from __future__ import annotations

import math
import os
import ssl
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local.emulators import Emulators
    from shared.bootstrap import Runtime


@dataclass(frozen=True)
class Row:
    """One line of the benchmark report: our figure against a baseline measured in the same run.

    ``baseline`` is None when a measure has no same-run baseline (an absolute count, say);
    ``met`` is None when it has no target. ``target`` is said in words ("ratio <= 2.0").
    """

    measure: str
    ours: float
    unit: str
    baseline: float | None = None
    target: str = ""
    met: bool | None = None

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.ours / self.baseline


COLUMNS = ("measure", "ours", "baseline", "ratio", "target", "met")


def format_number(value: float) -> str:
    """A figure as a reader wants it: whole numbers with thousands separators, others rounded to
    two or three significant digits (whole from 100 up), never with an exponent."""
    if not math.isfinite(value):
        return str(value)
    if value == int(value):
        return f"{int(value):,}"
    size = abs(value)
    if size >= 100:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 1:
        return f"{value:.2f}"
    return _small(value)


def format_ratio(ratio: float | None) -> str:
    if ratio is None:
        return ""
    if ratio == 0 or abs(ratio) >= 0.01:
        return f"{ratio:.2f}"
    return _small(ratio)


def _small(value: float) -> str:
    """Two significant digits of a number below 1 (0.43, 0.000099)."""
    decimals = max(2, 1 - math.floor(math.log10(abs(value))))
    return f"{value:.{decimals}f}"


def format_met(met: bool | None, markdown: bool = False) -> str:
    if met is None:
        return ""
    if met:
        return "yes"
    return "**no**" if markdown else "NO"


def cells(row: Row, markdown: bool = False) -> tuple[str, ...]:
    """The six cells of a row, in the order of ``COLUMNS``."""
    unit = f" {row.unit}" if row.unit else ""
    baseline = "" if row.baseline is None else format_number(row.baseline) + unit
    return (
        row.measure,
        format_number(row.ours) + unit,
        baseline,
        format_ratio(row.ratio),
        row.target,
        format_met(row.met, markdown),
    )


_RIGHT = {"ours", "baseline", "ratio"}


def format_table(rows: list[Row]) -> str:
    """An aligned plain-text table: text columns to the left, figures to the right."""
    table = [COLUMNS, *(cells(row) for row in rows)]
    widths = [max(len(line[index]) for line in table) for index in range(len(COLUMNS))]

    def line(values: tuple[str, ...]) -> str:
        parts = [
            value.rjust(width) if name in _RIGHT else value.ljust(width)
            for name, value, width in zip(COLUMNS, values, widths, strict=True)
        ]
        return "  ".join(parts).rstrip()

    rule = tuple("-" * width for width in widths)
    return "\n".join([line(COLUMNS), line(rule), *(line(values) for values in table[1:])])


def format_markdown(rows: list[Row]) -> str:
    """The same table as GitHub markdown (a missed target in bold)."""
    align = ["---:" if name in _RIGHT else "---" for name in COLUMNS]
    lines = [_markdown_line(COLUMNS), _markdown_line(tuple(align))]
    lines.extend(_markdown_line(cells(row, markdown=True)) for row in rows)
    return "\n".join(lines)


def _markdown_line(values: tuple[str, ...]) -> str:
    return "| " + " | ".join(value.replace("|", "\\|") for value in values) + " |"


def missed(rows: list[Row]) -> list[Row]:
    """The rows whose target was not met."""
    return [row for row in rows if row.met is False]


class RequestCounter:
    """An SDK response hook counting Cosmos DB requests and the documents they returned, and of
    those requests the ones on rate-limit counters."""

    def __init__(self) -> None:
        self.requests = 0
        self.items = 0
        self.rate_limit_requests = 0
        self._lock = threading.Lock()

    def __call__(self, response: Any) -> None:
        headers = response.http_response.headers
        request = response.http_request
        sent = getattr(request, "body", None) or getattr(request, "content", None) or ""
        text = f"{getattr(request, 'url', '')} {sent[:200]!s}"
        counter = "ratelimit" in text
        with self._lock:
            self.requests += 1
            self.items += int(headers.get("x-ms-item-count") or 0)
            self.rate_limit_requests += counter


@dataclass(frozen=True)
class Stack:
    """A benchmark's emulators (``emulators.processes``: their processes) and state folder."""

    folder: Path
    emulators: Emulators


@contextmanager
def emulator_stack(**settings: str) -> Iterator[Stack]:
    """Fresh emulators on free ports, the example settings pointed at them, plus ``settings``."""
    from local.config import EXAMPLE, local_values
    from local.emulators import Emulators, free_ports

    with tempfile.TemporaryDirectory() as state:
        folder = Path(state)
        emulators = Emulators(ports=free_ports(), state_dir=folder).start()
        try:
            os.environ.update(local_values(EXAMPLE))
            os.environ.update(emulators.settings())
            os.environ["AUTH_DEV_ISSUER_KEY_FILE"] = str(folder / "issuer.pem")
            os.environ["AUDIT_SEAL_KEY_FILE"] = str(folder / "audit-seal.key")
            os.environ["SMS_OUTBOX_PATH"] = str(folder / "outbox.jsonl")
            os.environ.update(settings)
            yield Stack(folder, emulators)
        finally:
            emulators.stop()


@contextmanager
def bench_stack(**settings: str) -> Iterator[Path]:
    """``emulator_stack``, yielding its state folder."""
    with emulator_stack(**settings) as stack:
        yield stack.folder


def cosmos_server_stats() -> dict[str, Any]:
    """What the local Cosmos DB server has counted since it started (``local/cosmos-server.js``):
    TLS ``connections``, ``requests``, and ``answers`` such as ``"409 POST audit"``."""
    import httpx

    from shared.settings import Settings

    settings = Settings()
    endpoint = settings.cosmos_endpoint.rstrip("/")
    certificate = settings.cosmos_ca_certificate
    verify = ssl.create_default_context(cafile=certificate) if certificate else True
    response = httpx.get(f"{endpoint}/_emulator/stats", verify=verify, timeout=10)
    response.raise_for_status()
    stats: dict[str, Any] = response.json()
    return stats


class ProcessCpu:
    """CPU seconds another process has used, all its threads (those that ended too): its
    CPU-time clock (``clock_getcpuclockid``, nanoseconds), or ``/proc/<pid>/stat`` (ticks of
    10 ms) where that clock cannot be read."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._clock = _cpu_clock(pid)

    def __call__(self) -> float:
        if self._clock is not None:
            return time.clock_gettime(self._clock)
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_clock(pid: int) -> int | None:
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        clock = ctypes.c_int()
        if libc.clock_getcpuclockid(ctypes.c_int(pid), ctypes.byref(clock)) != 0:
            return None
        time.clock_gettime(clock.value)
    except (AttributeError, OSError):
        return None
    return clock.value


def machine_cpu() -> tuple[float, float]:
    """CPU seconds of the whole machine so far, (busy, idle), summed over every CPU."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(values[:8]) - idle) / tick, idle / tick


def counting_runtime(counter: RequestCounter) -> Runtime:
    """A fresh runtime whose Cosmos DB client reports every response to ``counter``, with the
    database and containers provisioned."""
    from shared.adapters.blobs import provision_containers
    from shared.adapters.cosmos import build_cosmos_client, provision_database
    from shared.bootstrap import get_runtime, reset_runtime

    reset_runtime()
    runtime = get_runtime()
    runtime.cosmos_client = build_cosmos_client(runtime.settings, raw_response_hook=counter)
    provision_database(runtime.cosmos_client, runtime.settings.cosmos_database)
    provision_containers(runtime.blob_service)
    return runtime
