"""The API's rate limits: every signed-in caller (``tid``+``oid``) has an allowance of writes and
one of reads per window, family members and partner agencies a modest one and staff a generous
one (settings ``RATE_LIMIT_*``). A partner works on the few families they are granted, and an
account outside the borough's own staff is the likelier one to be taken over, so their
allowance is a family member's, not staff's. The edge spends one unit per request before the
handler runs, so a refused request touches nothing; a sync push spends one unit per operation it
carries.

- Writes are counted ``WRITE_BATCH`` at a time, or ``WRITE_FLUSH_SECONDS`` after the tally was
  last sent (one atomic increment per five writes of a caller on an instance, at most ten
  seconds late). A write costs an audit event and its own write already, and a counter request
  on each made every write half as dear again (a note's ``POST`` was three requests, not two).
  Batching keeps the limit exact on one instance; across ``n`` instances at most about
  ``n * WRITE_BATCH`` writes more than the allowance get through in a window (10 more than
  150 for a family member served by two instances at once).
- Reads are counted ``READ_BATCH`` at a time (one increment per ten reads of a caller on an
  instance), for the same reason: every read appends an audit event, so reads must be limited
  too, but a counter request on each would make every read about half as dear again. At most
  about ``READ_BATCH`` reads per instance more get through across instances.
- A refusal is audited once per window and instance (the first; see ``shared.rate_limit``), in
  the caller's own audit partition (``familyId`` ``caller:<tid>:<oid>``): it concerns the
  caller, not one family's records. Noting every refused request would let a flood fill the
  audit log anyway.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from shared.access import Caller
from shared.identity import Principal
from shared.rate_limit import Allowance, RateLimitedError, RateLimiter

if TYPE_CHECKING:
    from shared.audit import AuditLog
    from shared.settings import Settings

READ_BATCH = 10
WRITE_BATCH = 5
WRITE_FLUSH_SECONDS = 10.0
log = logging.getLogger("familystory.ratelimit")


def audit_partition(principal: Principal) -> str:
    return f"caller:{principal.key}"


class CallerLimits:
    def __init__(self, limiter: RateLimiter, settings: Settings, audit: AuditLog) -> None:
        window = settings.rate_limit_window_seconds

        def writes(limit: int) -> Allowance:
            return Allowance("write", limit, window, WRITE_BATCH, WRITE_FLUSH_SECONDS)

        def reads(limit: int) -> Allowance:
            return Allowance("read", limit, window, READ_BATCH)

        self._limiter = limiter
        self._audit = audit
        self._allowances = {
            ("family", True): writes(settings.rate_limit_family_writes),
            ("staff", True): writes(settings.rate_limit_staff_writes),
            ("family", False): reads(settings.rate_limit_family_reads),
            ("staff", False): reads(settings.rate_limit_staff_reads),
            ("partner", True): writes(settings.rate_limit_partner_writes),
            ("partner", False): reads(settings.rate_limit_partner_reads),
        }

    def spend(self, principal: Principal, writing: bool, cost: int = 1) -> None:
        """Spend ``cost`` units of the caller's writes (or reads), or raise a 429 error."""
        allowance = self._allowances[(principal.kind, writing)]
        try:
            self._limiter.spend(principal.key, allowance, cost)
        except RateLimitedError as refused:
            if refused.first_in_window:
                self._note(principal, refused)
            raise

    def _note(self, principal: Principal, refused: RateLimitedError) -> None:
        allowance = refused.allowance
        detail = (
            f"over {allowance.limit} {allowance.name}s in {allowance.window_seconds} s "
            f"from {refused.window_start.isoformat()}"
        )
        log.warning(
            "caller rate limited: %s",
            detail,
            extra={"tid": principal.tenant_id, "oid": principal.object_id, "kind": principal.kind},
        )
        self._audit.record(
            Caller(principal),
            "rate-limit",
            audit_partition(principal),
            "caller",
            None,
            outcome="refused",
            detail=detail,
        )
