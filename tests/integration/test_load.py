"""A short load run (the code of ``make load``): its invariants hold. No timing is asserted."""

from __future__ import annotations

import pytest

from bench.load import Config, report, rows, run


@pytest.mark.timeout(240)
def test_a_short_load_run_keeps_every_invariant() -> None:
    outcome = run(Config(devices=8, seconds=3, seed=7, think=0.02, alone_actions=10))
    assert outcome.problems == [], report(outcome)
    assert outcome.ledger.acks, "the run acknowledged no writes"
    assert {s.operation for s in outcome.load} >= {"create", "update", "push", "pull"}
    assert outcome.members > 0 < outcome.staff
    assert rows(outcome)[-1].met is True
