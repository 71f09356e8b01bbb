"""Are the dependencies answering, for real, without letting anyone make us ask too often.

A probe is one call to a dependency with a timeout; probes named ``<dependency>/<part>`` (such
as ``cosmos/audit``) count toward their dependency, which is ``ok`` only when all its probes are.
The answer names dependencies only: which part failed, and why, goes to the log (and the trace).

``HealthMonitor`` runs one round of probes at a time per instance and reuses a round for
``max_age`` seconds: however often ``/health`` or ``/health/ready`` are called (they need no
token, so anyone may call them), an instance asks its dependencies at most once per
``max_age``, and callers arriving while a round runs share that round.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from shared.models import HealthReport
from shared.ports.runtime import HealthProbe, Runtime

log = logging.getLogger("familystory.health")
CHECK_TIMEOUT_SECONDS = 4


def check_health(runtime: Runtime) -> HealthReport:
    return check(runtime.health_probes)


def check(probes: Mapping[str, HealthProbe]) -> HealthReport:
    """Every probe at once, each given ``CHECK_TIMEOUT_SECONDS``."""
    with ThreadPoolExecutor(max_workers=max(1, len(probes))) as pool:
        futures = {
            name: pool.submit(probe, CHECK_TIMEOUT_SECONDS) for name, probe in probes.items()
        }
        outcomes = {name: _outcome(name, future.result) for name, future in futures.items()}
    checks: dict[str, str] = {}
    for name, outcome in outcomes.items():
        dependency = name.split("/", 1)[0]
        if checks.get(dependency, "ok") == "ok":
            checks[dependency] = outcome
    healthy = all(value == "ok" for value in checks.values())
    return HealthReport(status="ok" if healthy else "unavailable", checks=checks)


def _outcome(name: str, result: Callable[..., object]) -> str:
    try:
        result(timeout=CHECK_TIMEOUT_SECONDS * 3)
    except Exception as error:  # noqa: BLE001 - any failure of a probe means "unavailable"
        log.warning(
            "health check %s failed: %s",
            name,
            type(error).__name__,
            extra={"probe": name, "error": type(error).__name__},
        )
        return "unavailable"
    return "ok"


@dataclass(frozen=True)
class Round:
    started: float
    finished: float
    report: HealthReport


class HealthMonitor:
    """One round of ``probes`` at a time, each round reused for ``max_age`` seconds."""

    def __init__(
        self,
        probes: Callable[[], Mapping[str, HealthProbe]],
        max_age: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._probes = probes
        self._max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._latest: Round | None = None

    def report(self) -> HealthReport:
        arrived = self._clock()
        with self._lock:
            latest = self._latest
            if latest is not None and (
                latest.finished >= arrived or self._clock() - latest.started < self._max_age
            ):
                return latest.report
            started = self._clock()
            report = check(self._probes())
            self._latest = Round(started, self._clock(), report)
            return report
