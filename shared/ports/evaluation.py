"""What the pilot evaluation needs: its own store of weekly figures, and a way to read the case
activity they are counted from.

``EvaluationStore`` holds one row per team and ISO week (``<teamId>:<week>``) and the
updater's watermark. ``CaseActivity`` reads the records (and the sync-conflict audit events)
of a set of families over a time range, only the fields the figures need, and what changed
since a watermark (``_ts``, seconds).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Protocol

from shared.ports.records import Document


class EvaluationStore(Protocol):
    def rows(self, team_ids: Sequence[str] | None, first: str, last: str) -> list[Document]:
        """The rows of ``team_ids`` (every team when None) for weeks ``first``..``last``."""
        ...

    def save(self, rows: Sequence[Document]) -> None:
        """Write each row whole, replacing the team-week's earlier figures."""
        ...

    def watermark(self) -> int | None:
        """The ``_ts`` up to which changes have been counted, or None before the first run."""
        ...

    def set_watermark(self, ts: int) -> None: ...


class CaseActivity(Protocol):
    def family_teams(self) -> dict[str, str]:
        """Every family's team: ``{familyId: teamId}``."""
        ...

    def changed_since(self, ts: int) -> Iterator[Document]:
        """Records and sync-conflict audit events written after ``ts``, with ``_ts``."""
        ...

    def activity(
        self, family_ids: Sequence[str], start: datetime, end: datetime
    ) -> Iterator[Document]:
        """The documents of ``family_ids`` that may count in ``[start, end)``: a superset
        (the figures apply the exact rules), never missing one."""
        ...
