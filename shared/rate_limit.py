"""Rate limits: how many units a caller may spend in a fixed window, counted atomically.

A counter is one small document per limit, caller and window in the directory container
(partitioned by ``/id``, so every operation on it is a point operation), with the id
``ratelimit:<limit>:<who>:<window index>`` and a TTL of two windows. It is counted with a
Cosmos DB patch ``incr`` (``shared.adapters.cosmos_directory.CosmosCounters``), which the
database applies atomically and which returns the count after it: one request per count, no
read first, and no two racing requests ever see the same count. (A read followed by a
conditional replace also never loses a count, but under a race the losers must read and try
again, and a limit checked on the read lets racers through.)

``RateLimiter.spend`` decides; it is the one mechanism, whatever is limited:

- ``batch == 1``: every unit is counted in the database before it is spent, and a unit passes
  only if the count after it is within the limit, so no more than ``limit`` units pass per
  window across every instance. The request whose count first crosses the limit is the
  window's first refusal, exactly once across instances (``first_in_window``).
- ``batch > 1`` (reads and writes, which must stay cheap): units are tallied in this instance
  and sent to the database ``batch`` at a time, or sooner once ``flush_seconds`` have passed
  since this instance last sent that caller's tally (on the caller's next request); each answer
  tells this instance a lower bound of what the other instances spent. A unit passes if this
  instance's tally plus that bound is within the limit. On one instance that is exact; across
  ``n`` instances, at most about ``n * batch`` units more pass (what the other instances have
  not sent yet, and what they sent since this one last heard). Each instance marks its own
  first refusal of a window.
- Once a caller is refused, this instance refuses them without a database request until the
  window ends, so a flood costs nothing after its first refusal.

The answer to a refusal is 429 with ``Retry-After``: the seconds until the window ends.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from cachetools import LRUCache

from shared.errors import TooManyRequestsError
from shared.ports.directory import Counters

CALLERS_TRACKED = 65_536

__all__ = ["Allowance", "Counters", "MemoryCounters", "RateLimitedError", "RateLimiter"]


class MemoryCounters:
    """Counters in memory, atomic across threads: for tests, and one process only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def add(self, counter_id: str, amount: int, ttl_seconds: int) -> int:
        with self._lock:
            self._counts[counter_id] = self._counts.get(counter_id, 0) + amount
            return self._counts[counter_id]


@dataclass(frozen=True)
class Allowance:
    """``limit`` units per ``window_seconds`` per caller, counted ``batch`` units at a time, or
    after ``flush_seconds`` whichever comes first."""

    name: str
    limit: int
    window_seconds: int
    batch: int = 1
    flush_seconds: float | None = None


class RateLimitedError(TooManyRequestsError):
    """A refusal; ``first_in_window`` for the one that crossed the limit (see the module)."""

    def __init__(
        self, allowance: Allowance, window_start: datetime, retry_after: int, first: bool
    ) -> None:
        super().__init__("Too many requests; try again later.", retry_after)
        self.allowance = allowance
        self.window_start = window_start
        self.first_in_window = first


@dataclass
class _Local:
    """This instance's view of one caller's window."""

    window: int
    spent: int = 0  # units spent here (batched allowances)
    pending: int = 0  # of those, not yet sent to the database
    sent: int = 0  # of those, sent
    others: int = 0  # a lower bound of the units other instances spent
    refused: bool = False
    sent_at: float = 0.0  # when this instance last sent the caller's tally (or began one)


class RateLimiter:
    def __init__(self, counters: Counters, clock: Callable[[], datetime]) -> None:
        self._counters = counters
        self._clock = clock
        self._lock = threading.Lock()
        self._local: LRUCache[tuple[str, str], _Local] = LRUCache(CALLERS_TRACKED)

    def spend(self, who: str, allowance: Allowance, cost: int = 1) -> None:
        """Spend ``cost`` units of ``who``'s allowance, or raise ``RateLimitedError``.

        A cost over the whole limit is charged as the limit, so that the largest request still
        passes in a window of its own."""
        cost = max(1, min(cost, allowance.limit))
        window = _Window(self._clock().timestamp(), allowance)
        with self._lock:
            local = self._local.get((allowance.name, who))
            if local is None or local.window != window.index:
                local = self._local[(allowance.name, who)] = _Local(window.index)
                local.sent_at = window.now
            if local.refused:
                raise window.refusal(first=False)
        counter_id = f"ratelimit:{allowance.name}:{who}:{window.index}"
        if allowance.batch > 1:
            self._spend_batched(local, counter_id, window, cost)
        else:
            self._spend_counted(local, counter_id, window, cost)

    def _spend_counted(self, local: _Local, counter_id: str, window: _Window, cost: int) -> None:
        limit = window.allowance.limit
        count = self._counters.add(counter_id, cost, window.ttl)
        if count > limit:
            with self._lock:
                local.refused = True
            raise window.refusal(first=count - cost <= limit)

    def _spend_batched(self, local: _Local, counter_id: str, window: _Window, cost: int) -> None:
        allowance = window.allowance
        with self._lock:
            local.spent += cost
            local.pending += cost
            over = local.others + local.spent > allowance.limit
            first = over and not local.refused
            local.refused = local.refused or over
            due = allowance.flush_seconds is not None and (
                window.now - local.sent_at >= allowance.flush_seconds
            )
            amount = local.pending if over or due or local.pending >= allowance.batch else 0
            local.pending -= amount
            local.sent += amount
            if amount:
                local.sent_at = window.now
        if amount:
            count = self._counters.add(counter_id, amount, window.ttl)
            with self._lock:
                local.others = max(local.others, count - local.sent)
        if over:
            raise window.refusal(first=first)


class _Window:
    """The fixed window of an allowance that ``now`` falls in."""

    def __init__(self, now: float, allowance: Allowance) -> None:
        self.now = now
        self.allowance = allowance
        self.index = math.floor(now / allowance.window_seconds)
        self.ttl = 2 * allowance.window_seconds

    def refusal(self, first: bool) -> RateLimitedError:
        seconds = self.allowance.window_seconds
        ends = (self.index + 1) * seconds
        start = datetime.fromtimestamp(self.index * seconds, UTC)
        return RateLimitedError(self.allowance, start, max(1, math.ceil(ends - self.now)), first)
