"""Per-caller rate limits: fixed windows, counted atomically, refusals noted once per window."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from shared.errors import TooManyRequestsError
from shared.rate_limit import Allowance, MemoryCounters, RateLimitedError, RateLimiter
from tests.fakes import FakeRuntime

START = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)
WRITES = Allowance("write", limit=3, window_seconds=60)
READS = Allowance("read", limit=25, window_seconds=60, batch=10)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class CountingCounters(MemoryCounters):
    def __init__(self) -> None:
        super().__init__()
        self.requests = 0
        self.amounts: list[int] = []

    def add(self, counter_id: str, amount: int, ttl_seconds: int) -> int:
        self.requests += 1
        self.amounts.append(amount)
        return super().add(counter_id, amount, ttl_seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def counters() -> CountingCounters:
    return CountingCounters()


@pytest.fixture
def limiter(counters: CountingCounters, clock: Clock) -> RateLimiter:
    return RateLimiter(counters, clock)


def test_writes_up_to_the_limit_pass_and_the_next_is_429_until_the_window_ends(
    limiter: RateLimiter, clock: Clock
) -> None:
    clock.now = START + timedelta(seconds=15.5)
    for _ in range(3):
        limiter.spend("t:o", WRITES)
    with pytest.raises(TooManyRequestsError) as refused:
        limiter.spend("t:o", WRITES)
    assert refused.value.retry_after_seconds == 45
    clock.now = START + timedelta(seconds=60)
    limiter.spend("t:o", WRITES)


def test_each_write_costs_one_counter_request_and_a_refused_caller_costs_none(
    limiter: RateLimiter, counters: CountingCounters
) -> None:
    for _ in range(3):
        limiter.spend("t:o", WRITES)
    assert counters.requests == 3
    for _ in range(10):
        with pytest.raises(TooManyRequestsError):
            limiter.spend("t:o", WRITES)
    assert counters.requests == 4


def test_one_refusal_per_window_says_it_is_the_first(limiter: RateLimiter, clock: Clock) -> None:
    firsts: list[datetime] = []
    for _ in range(2):
        for _ in range(10):
            try:
                limiter.spend("t:o", WRITES)
            except RateLimitedError as refused:
                if refused.first_in_window:
                    firsts.append(refused.window_start)
        clock.now += timedelta(seconds=60)
    assert firsts == [START, START + timedelta(seconds=60)]


def test_callers_have_budgets_of_their_own(limiter: RateLimiter) -> None:
    for _ in range(3):
        limiter.spend("t:a", WRITES)
        limiter.spend("t:b", WRITES)
    with pytest.raises(TooManyRequestsError):
        limiter.spend("t:a", WRITES)


def test_a_batch_costs_its_size_but_never_more_than_a_whole_window(limiter: RateLimiter) -> None:
    limiter.spend("t:o", WRITES, cost=100)  # the largest sync push fits an empty window
    with pytest.raises(TooManyRequestsError):
        limiter.spend("t:o", WRITES)
    limiter.spend("t:p", WRITES, cost=2)
    with pytest.raises(TooManyRequestsError):
        limiter.spend("t:p", WRITES, cost=2)


def test_reads_are_counted_in_batches_and_still_stop_at_the_limit(
    limiter: RateLimiter, counters: CountingCounters
) -> None:
    for _ in range(25):
        limiter.spend("t:o", READS)
    assert counters.requests == 2
    with pytest.raises(TooManyRequestsError):
        limiter.spend("t:o", READS)


def test_instances_sharing_counters_let_through_at_most_a_batch_each_beyond_the_limit(
    counters: CountingCounters, clock: Clock
) -> None:
    instances = [RateLimiter(counters, clock) for _ in range(3)]
    served = 0
    for _ in range(40):
        for instance in instances:
            try:
                instance.spend("t:o", READS)
                served += 1
            except TooManyRequestsError:
                pass
    assert READS.limit <= served <= READS.limit + 3 * (READS.batch - 1)


@pytest.mark.parametrize("allowance", [WRITES, READS], ids=["writes", "reads"])
def test_forty_racing_requests_get_no_more_than_the_limit_through(
    limiter: RateLimiter, allowance: Allowance
) -> None:
    passed: list[int] = []
    barrier = threading.Barrier(40)

    def request() -> None:
        barrier.wait()
        try:
            limiter.spend("t:o", allowance)
            passed.append(1)
        except TooManyRequestsError:
            pass

    threads = [threading.Thread(target=request) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(passed) == allowance.limit


def test_a_batched_tally_is_also_sent_once_its_flush_time_has_passed(
    limiter: RateLimiter, counters: CountingCounters, clock: Clock
) -> None:
    timed = Allowance("write", limit=100, window_seconds=300, batch=5, flush_seconds=10)
    for _ in range(3):
        limiter.spend("t:o", timed)
    assert counters.requests == 0
    clock.now += timedelta(seconds=10)
    limiter.spend("t:o", timed)
    assert counters.amounts == [4]
    for _ in range(5):
        limiter.spend("t:o", timed)
    assert counters.amounts == [4, 5]


def test_the_callers_writes_cost_one_counter_request_per_batch_and_stop_at_the_allowance(
    counters: CountingCounters, clock: Clock
) -> None:
    from shared.caller_limits import WRITE_BATCH, CallerLimits
    from shared.identity import Principal
    from shared.settings import get_settings

    settings = get_settings().model_copy(update={"rate_limit_family_writes": 12})
    audit = FakeRuntime().audit
    limits = CallerLimits(RateLimiter(counters, clock), settings, audit)
    member = Principal(kind="family", tenant_id="t", object_id="o", name="M", roles=frozenset())
    for _ in range(10):
        limits.spend(member, writing=True)
    assert counters.requests == 10 // WRITE_BATCH
    limits.spend(member, writing=True, cost=2)
    with pytest.raises(TooManyRequestsError):
        limits.spend(member, writing=True)


def test_a_partner_agency_has_an_allowance_of_its_own(limiter: RateLimiter) -> None:
    from shared.caller_limits import CallerLimits
    from shared.identity import Principal
    from tests.fakes import FakeRuntime

    runtime = FakeRuntime(
        rate_limit_partner_writes=2, rate_limit_staff_writes=50, rate_limit_family_writes=50
    )
    limits = CallerLimits(limiter, runtime.settings, runtime.audit)
    partner = Principal("t", "p", "Dana Head", "partner", frozenset({"Partner"}))
    staff = Principal("t", "s", "Sam Patel", "staff", frozenset({"SocialWorker"}))
    for _ in range(2):
        limits.spend(partner, writing=True)
        limits.spend(staff, writing=True)
    with pytest.raises(TooManyRequestsError):
        limits.spend(partner, writing=True)
    limits.spend(staff, writing=True)
    [refusal] = runtime.audit_store.events("caller:t:p")
    assert refusal["actor"]["kind"] == "partner"
    assert refusal["outcome"] == "refused"
