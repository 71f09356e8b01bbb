"""Health checks are real but rationed: one round at a time per instance, each reused a while,
and a dependency is ok only when every one of its probes is."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from shared.ports import HealthProbe
from shared.services.health import HealthMonitor, check


class Probes:
    """Probes that count their calls; ``failing`` ones raise, ``slow`` ones take a while."""

    def __init__(self, names: tuple[str, ...], failing: tuple[str, ...] = ()) -> None:
        self.calls = 0
        self.names = names
        self.failing = set(failing)
        self.delay = 0.0
        self.lock = threading.Lock()

    def __call__(self) -> Mapping[str, HealthProbe]:
        return {name: self._probe(name) for name in self.names}

    def _probe(self, name: str) -> HealthProbe:
        def probe(timeout: float) -> None:
            with self.lock:
                self.calls += 1
            time.sleep(self.delay)
            if name in self.failing:
                raise ConnectionError(f"{name} refused")

        return probe


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_dependency_is_ok_only_when_all_its_probes_are() -> None:
    probes = Probes(("cosmos/records", "cosmos/audit", "storage/uploads"), ("cosmos/audit",))
    report = check(probes())
    assert report.status == "unavailable"
    assert report.checks == {"cosmos": "unavailable", "storage": "ok"}


def test_a_round_is_reused_until_it_is_max_age_old() -> None:
    probes, clock = Probes(("cosmos", "storage")), Clock()
    monitor = HealthMonitor(probes, max_age=10, clock=clock)
    for _ in range(50):
        assert monitor.report().status == "ok"
    assert probes.calls == 2
    clock.now += 9.9
    monitor.report()
    assert probes.calls == 2
    clock.now += 0.2
    probes.failing.add("storage")
    assert monitor.report().checks == {"cosmos": "ok", "storage": "unavailable"}
    assert probes.calls == 4


def test_callers_arriving_during_a_round_share_it_even_with_no_reuse() -> None:
    probes = Probes(("cosmos", "storage"))
    probes.delay = 0.2
    monitor = HealthMonitor(probes, max_age=0)
    results: list[str] = []
    callers: list[Callable[[], None]] = [
        lambda: results.append(monitor.report().status) for _ in range(20)
    ]
    threads = [threading.Thread(target=caller) for caller in callers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["ok"] * 20
    assert probes.calls <= 4  # the first round, and at most one more for those who came after it
    before = probes.calls
    monitor.report()
    assert probes.calls == before + 2  # no reuse: a caller after the last round gets its own
