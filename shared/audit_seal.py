"""The sealer: a timer (``audit_seal``) seals each family's new audit events into its chain and
anchors each seal where the database's writers cannot reach.

A run takes ``through`` = now minus ``SETTLE_SECONDS`` (whole seconds). Every event whose
database timestamp ``_ts`` is at most ``through`` was committed before the run (``_ts`` is
given at commit, on the database's clock, and the margin covers the skew between clocks), so a
stretch ``(after, through]`` once sealed never gains an event. The families to look at are those
with events since the last complete run (a cursor in the audit container); for each, the events
after its last seal are sealed (``shared.audit_chain.make_seal``), at most ``SEAL_EVENTS`` per
seal, and each seal is appended to that family's anchor of the month. Seal ids derive from family
and number, so a second run racing this one (a timer may fire twice) gets 409 on the same seal
and leaves that family to the winner; the chain never forks. A run that dies between a seal and
its anchor leaves that seal unanchored; the family's next seal's anchor covers it (each seal
carries its predecessor's MAC).

The key is ``AUDIT_SEAL_KEY`` (in Azure a Key Vault reference the platform resolves; locally a
key file, ``AUDIT_SEAL_KEY_FILE``, made on first use). Only sealing and verifying need it: the
request path never reads it.
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.audit_chain import anchor_line, make_seal
from shared.errors import DependencyUnavailableError
from shared.files import create_once
from shared.ports.audit import AuditAnchors, AuditStore, SealKey
from shared.ports.errors import AlreadyExistsError, StorageError
from shared.records.store import now_iso
from shared.settings import Settings

log = logging.getLogger("familystory.audit")

SETTLE_SECONDS = 10
SEAL_EVENTS = 1000
MIN_KEY_CHARACTERS = 32
UNRESOLVED_REFERENCE = "@Microsoft.KeyVault("


def load_seal_key(settings: Settings) -> SealKey:
    """The seal key from the settings; a 503 (the key's store is a dependency) when there is
    none, when Azure left the Key Vault reference unresolved, or when it is too short."""
    value = settings.audit_seal_key
    if value:
        if value.startswith(UNRESOLVED_REFERENCE):
            log.error("AUDIT_SEAL_KEY is a Key Vault reference the platform did not resolve")
            raise DependencyUnavailableError("The audit seal key", retry_after_seconds=60)
        if len(value) < MIN_KEY_CHARACTERS:
            log.error("AUDIT_SEAL_KEY is shorter than %d characters", MIN_KEY_CHARACTERS)
            raise DependencyUnavailableError("The audit seal key", retry_after_seconds=60)
        return SealKey(value.encode())
    if settings.audit_seal_key_file:
        return SealKey(_load_or_create_key_file(Path(settings.audit_seal_key_file)))
    log.error("no audit seal key: AUDIT_SEAL_KEY is not set")
    raise DependencyUnavailableError("The audit seal key", retry_after_seconds=60)


def _load_or_create_key_file(path: Path) -> bytes:
    """The local stand-in for the Key Vault secret, made once; racing makers keep the first."""
    if not path.exists():
        create_once(path, secrets.token_urlsafe(48).encode())
    return path.read_text().strip().encode()


@dataclass
class SealRun:
    """What one run did, for the log (and the tests)."""

    through: int = 0
    families: int = 0
    seals: int = 0
    events: int = 0
    raced: int = 0
    failed: int = 0
    sealed: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Sealer:
    def __init__(
        self,
        store: AuditStore,
        anchors: AuditAnchors,
        key: SealKey,
        clock: Callable[[], datetime],
        settle_seconds: int | None = None,
        seal_events: int = SEAL_EVENTS,
    ) -> None:
        self.store = store
        self.anchors = anchors
        self.key = key
        self.clock = clock
        self.settle_seconds = SETTLE_SECONDS if settle_seconds is None else settle_seconds
        self.seal_events = seal_events

    def through(self) -> int:
        return math.floor(self.clock().timestamp()) - self.settle_seconds

    def run(self) -> SealRun:
        report = SealRun(through=self.through())
        cursor = self.store.sealer_cursor()
        since = max(0, int(cursor["through"]) - self.settle_seconds) if cursor else 0
        for family_id in self.store.families_with_events(since, report.through):
            report.families += 1
            try:
                self.seal_family(family_id, report.through, report)
            except StorageError:
                report.failed += 1
                log.exception("sealing a family's audit events failed; the next run retries")
        if not report.failed:
            self.store.move_sealer_cursor(report.through, cursor.get("_etag") if cursor else None)
        log.info("audit sealing: %s", report.as_dict(), extra={"sealing": report.as_dict()})
        return report

    def seal_family(
        self, family_id: str, through: int | None = None, report: SealRun | None = None
    ) -> int:
        """Seal the family's events up to ``through``; the number of events sealed."""
        through = self.through() if through is None else through
        report = report or SealRun(through=through)
        last = self.store.last_seal(family_id)
        sealed = 0
        while True:
            after = int(last["through"]) if last else 0
            if after >= through:
                break
            events = self.store.events_between(family_id, after, through, self.seal_events + 1)
            if not events:
                break
            stretch_end = through
            if len(events) > self.seal_events:
                stretch_end, events = self._cut(family_id, after, events)
            seal = make_seal(
                self.key, family_id, last, after, stretch_end, events, now_iso(self.clock())
            )
            try:
                stored = self.store.add_seal(seal)
            except AlreadyExistsError:
                report.raced += 1
                break
            self.anchors.append(family_id, _month(self.clock()), anchor_line(stored))
            report.seals += 1
            report.events += len(events)
            sealed += len(events)
            last = stored
        if sealed:
            report.sealed[family_id] = sealed
        return sealed

    def _cut(
        self, family_id: str, after: int, events: list[dict[str, Any]]
    ) -> tuple[int, list[dict[str, Any]]]:
        """A stretch of at most about ``seal_events`` events, ending at a whole second: the
        events before the second of the last one read, or, when they all share that second,
        every event of it."""
        last_second = int(events[self.seal_events - 1]["_ts"])
        before = [event for event in events if int(event["_ts"]) < last_second]
        if before:
            return last_second - 1, before
        return last_second, self.store.events_between(family_id, after, last_second)


def _month(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")
