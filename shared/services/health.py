"""Readiness: are Cosmos DB and Blob Storage answering, for real."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from shared.models import HealthReport
from shared.ports.runtime import Runtime

log = logging.getLogger("familystory.health")
CHECK_TIMEOUT_SECONDS = 4


def check_health(runtime: Runtime) -> HealthReport:
    probes = runtime.health_probes
    with ThreadPoolExecutor(max_workers=len(probes)) as pool:
        futures = {
            name: pool.submit(probe, CHECK_TIMEOUT_SECONDS) for name, probe in probes.items()
        }
        checks = {name: _outcome(name, future.result) for name, future in futures.items()}
    healthy = all(value == "ok" for value in checks.values())
    return HealthReport(status="ok" if healthy else "unavailable", checks=checks)


def _outcome(name: str, result: Callable[..., object]) -> str:
    try:
        result(timeout=CHECK_TIMEOUT_SECONDS * 3)
    except Exception as error:  # noqa: BLE001 - any failure of a probe means "unavailable"
        log.warning("health check %s failed: %s", name, type(error).__name__)
        return "unavailable"
    return "ok"
