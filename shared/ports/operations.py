"""What sync needs from its store: applied operations kept for replays, and the family sets sync
tokens name. Both expire by a per-document TTL.

An operation is known by its owner (the caller who pushed it) and its key (from its ``opId``).
A push claims all of its operations at once before applying any, then stores all their results
at once: the store does each in one request when it can (all of an owner's operations share a
partition), so a push of N operations costs two requests besides the operations' own writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class Operations(Protocol):
    def claim(self, owner: str, keys: Sequence[str], ttl_seconds: int) -> set[str]:
        """Mark each operation in progress; the keys this call claimed (the others were claimed
        or done already, by this owner's earlier push or one running now)."""
        ...

    def results(self, owner: str, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored results of those of the operations that are done."""
        ...

    def complete(self, owner: str, results: Mapping[str, dict[str, Any]], ttl_seconds: int) -> None:
        """Store the results of operations this owner claimed and applied, for replays."""
        ...

    def release(self, owner: str, key: str) -> None:
        """Forget a claim whose operation failed, so a retry applies it."""
        ...

    def remember_family_set(self, key: str, family_ids: list[str], ttl_seconds: int) -> None: ...

    def family_set(self, key: str) -> list[str] | None: ...
