"""How many invitation codes a family sign-in may try: five in any rolling hour, atomically.

Each attempt first claims one of five numbered slots, documents in the directory named
``redeemslot:<tid>:<oid>:<n>``. A slot is claimed by creating it (which fails with 409 if it
exists) or, when it holds a claim older than the window, by replacing it on its ETag (which
fails with 412 if another attempt took it first). Either write succeeds for one attempt only, so
however many attempts race, at most five are evaluated in any hour; the others are refused with
the time until the oldest slot frees. A claim is given back (the slot deleted) when the attempt
succeeds or fails for a reason other than a wrong code, so only failures are counted.

Slots expire by their own ``claimedAt``, not by Cosmos DB's TTL (which deletes late, and which
the local emulator does not run); the TTL only tidies them away.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.errors import TooManyRequestsError
from shared.ports.directory import Directory
from shared.ports.errors import AlreadyExistsError, MissingError, StorageError, VersionMismatchError
from shared.records.store import now_iso

MAX_ATTEMPTS = 5
WINDOW = timedelta(hours=1)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    slot_id: str
    etag: str


class RedeemAttempts:
    def __init__(
        self,
        directory: Directory,
        clock: Callable[[], datetime],
        limit: int = MAX_ATTEMPTS,
        window: timedelta = WINDOW,
    ) -> None:
        self._directory = directory
        self._clock = clock
        self._limit = limit
        self._window = window

    def claim(self, caller_key: str) -> Claim:
        """One attempt's slot, or TooManyRequestsError with the seconds until one frees."""
        now = self._clock()
        held: list[datetime] = []
        for n in range(self._limit):
            slot_id = f"redeemslot:{caller_key}:{n}"
            claimed = self._take(slot_id, now, held)
            if claimed is not None:
                return claimed
        frees_at = min(held) + self._window if held else now + self._window
        window = int(self._window.total_seconds())
        wait = min(window, max(1, math.ceil((frees_at - now).total_seconds())))
        raise TooManyRequestsError("Too many failed attempts; try again later.", wait)

    def give_back(self, claim: Claim) -> None:
        """Forget an attempt that was not a failure, deleting only the claim it made. Best
        effort: a slot left behind costs the caller one attempt, never a failed redemption."""
        try:
            self._directory.delete(claim.slot_id, claim.etag)
        except StorageError as error:
            logger.info("redeem attempt not given back", extra={"reason": type(error).__name__})

    def _take(self, slot_id: str, now: datetime, held: list[datetime]) -> Claim | None:
        body = {
            "id": slot_id,
            "type": "redeemslot",
            "claimedAt": now_iso(now),
            "ttl": int(self._window.total_seconds()) + 3600,
        }
        for _ in range(2):
            try:
                return _claim_of(slot_id, self._directory.create(body))
            except AlreadyExistsError:
                pass
            current = self._directory.read(slot_id)
            if current is None:
                continue
            claimed_at = datetime.fromisoformat(str(current["claimedAt"]))
            if claimed_at > now - self._window:
                held.append(claimed_at)
                return None
            try:
                replaced = self._directory.replace(body, str(current["_etag"]))
            except (VersionMismatchError, MissingError):
                return None
            return _claim_of(slot_id, replaced)
        return None


def _claim_of(slot_id: str, stored: dict[str, Any]) -> Claim:
    return Claim(slot_id, str(stored["_etag"]))
