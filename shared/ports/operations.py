"""What sync needs from the operations store: applied operations kept for replays, and the
family sets sync tokens name. Both expire by a per-document TTL."""

from __future__ import annotations

from typing import Any, Protocol


class Operations(Protocol):
    def claim(self, key: str, ttl_seconds: int) -> bool:
        """Mark the operation in progress; False when it is claimed or done already."""
        ...

    def complete(self, key: str, result: dict[str, Any], ttl_seconds: int) -> None:
        """Store the operation's result for replays."""
        ...

    def release(self, key: str) -> None:
        """Forget a claim whose operation failed, so a retry applies it."""
        ...

    def result(self, key: str) -> dict[str, Any] | None:
        """The result of a completed operation."""
        ...

    def remember_family_set(self, key: str, family_ids: list[str], ttl_seconds: int) -> None: ...

    def family_set(self, key: str) -> list[str] | None: ...
