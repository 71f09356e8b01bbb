"""Sealing a family's audit events now, in tests, as the ``audit_seal`` timer would later."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from shared.audit_seal import Sealer
from shared.bootstrap import get_runtime


def next_second() -> None:
    """Wait for the clock's second to turn: what was written is then in an earlier second than
    anything written next."""
    time.sleep(1.05 - datetime.now(UTC).microsecond / 1e6)


def seal_now(family_id: str) -> int:
    """Seal everything written so far, up to the second before this one (so no later write can
    land in the sealed stretch), on the real clock whatever the runtime's; the events sealed."""
    next_second()
    runtime = get_runtime()
    store, anchors = runtime.audit_store, runtime.audit_anchors
    sealer = Sealer(store, anchors, runtime.audit_key, lambda: datetime.now(UTC), 1)
    return sealer.seal_family(family_id)
