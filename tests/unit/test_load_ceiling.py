"""How the load benchmark turns CPU readings into the ceiling it states, and its targets."""

from __future__ import annotations

import pytest

from bench._load_check import Ledger, Sample
from bench.load import Config, Cpu, Outcome, cpu_figures, rows


def test_cpu_per_request_is_taken_alone_less_the_idle_host_and_weighted_by_the_loads_mix() -> None:
    alone = [
        Sample("create", 201, 0.020, cpu=0.012),
        Sample("create", 201, 0.020, cpu=0.010),
        Sample("push", 200, 0.040, cpu=0.032),
        Sample("read", 0, 0.100),  # no answer: not measured
    ]
    load = [Sample("create", 201, 1.0)] * 3 + [Sample("push", 200, 2.0), Sample("pull", 200, 1.0)]
    before = {
        "host": 10.0,
        "Cosmos DB server": 1.0,
        "load generator": 0.5,
        "idle": 3.0,
        "wall": 0.0,
    }
    after = {"host": 14.0, "Cosmos DB server": 2.0, "load generator": 1.0, "idle": 4.0, "wall": 5.0}

    cpu = cpu_figures(0.05, alone, load, before, after)

    create, push = 0.011 - 0.001, 0.032 - 0.002  # idle: 0.05 cores for 20 ms, for 40 ms
    assert cpu.alone.keys() == {"create", "push"}
    assert cpu.alone["create"][0] == 2
    assert cpu.alone["create"][1] == pytest.approx(create)
    assert cpu.alone["push"][0] == 1
    assert cpu.alone["push"][1] == pytest.approx(push)
    every = (0.011 + 0.009 + 0.030) / 3  # pull was never measured alone: the average stands in
    assert cpu.mix == pytest.approx((3 * create + push + every) / 5)
    assert cpu.ceiling == pytest.approx(1 / cpu.mix)
    assert cpu.loaded == pytest.approx(4.0 / 5)
    assert cpu.cores["host"] == pytest.approx(0.8)
    assert cpu.cores["idle"] == pytest.approx(0.2)


def outcome(throughput: float, mix: float, loaded_p95: float, alone_p95: float) -> Outcome:
    load = [Sample("read", 200, loaded_p95)] * int(throughput * 10)
    alone = [Sample("read", 200, alone_p95)] * 20
    cpu = Cpu(0.0, {"read": (20, mix)}, mix, mix, {})
    return Outcome(Config(seconds=10), Ledger(), alone, load, 10.0, [], cpu=cpu)


def met(result: Outcome, words: str) -> bool | None:
    [row] = [row for row in rows(result) if words in row.measure]
    return row.met


def test_the_targets_are_three_quarters_of_the_ceiling_and_fifteen_times_the_p95_alone() -> None:
    near = outcome(throughput=80, mix=0.010, loaded_p95=0.300, alone_p95=0.020)
    far = outcome(throughput=70, mix=0.010, loaded_p95=0.301, alone_p95=0.020)

    assert met(near, "host process's ceiling") is True
    assert met(far, "host process's ceiling") is False
    assert met(near, "p95 latency") is True
    assert met(far, "p95 latency") is False
