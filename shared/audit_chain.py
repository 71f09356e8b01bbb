"""The seals over a family's audit events, and their verifier.

Events are written independently (``shared.audit``): one ``create`` each, with a unique id and
no position. The sealer (``shared.audit_seal``, a timer) later writes, for each family with new
events, a *seal*: the events whose database timestamp ``_ts`` falls in ``(after, through]``, in
a fixed order (``_ts``, then ``at``, then each writer's own sequence), each with the SHA-256 of
its content. Seal ``n`` numbers its events ``first..last`` (continuing seal ``n - 1``), carries
seal ``n - 1``'s MAC as ``prev`` and its own ``mac``: an HMAC-SHA256 with the seal key, which
lives outside the database (Key Vault in Azure). Each seal is also appended to an anchor (an
immutable blob in Azure).

What the verifier finds in the sealed chain: an event changed after it was sealed (its hash, or
its ``_ts`` moved out of its seal's stretch), an event removed, an event added to a sealed
stretch, a seal changed, removed or reordered (its MAC, its ``prev``, its number), and seals cut
from the end (the latest anchor names a seal the chain no longer holds, or differs from it).
Without the key, no one can write a seal the verifier accepts; with it but without the anchors'
storage, no one can rewrite what an anchor already covers, because every anchor commits to the
whole chain before it. What it cannot find: events removed or changed *before* they were sealed
(within the sealing delay), and well-formed events added through the database before sealing.
Events not sealed yet are reported as pending, not as breaks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.ports.audit import AuditAnchors, AuditStore, SealKey
from shared.ports.records import Document

GENESIS = "0" * 64
NAMESPACE = uuid.UUID("6f1c2d8e-4b7a-5e3c-9a1d-2b8f0c7e6a54")
EVENT_TYPE = "audit"
SEAL_TYPE = "auditSeal"
EVENT_FIELDS = (
    "id",
    "familyId",
    "type",
    "at",
    "actor",
    "action",
    "recordType",
    "recordId",
    "outcome",
    "detail",
    "writer",
    "wseq",
)
SEAL_FIELDS = (
    "id",
    "familyId",
    "type",
    "seal",
    "first",
    "last",
    "after",
    "through",
    "events",
    "prev",
    "keyId",
    "sealedAt",
)
MAX_PROBLEMS = 100
MAX_PENDING_LISTED = 100


def canonical(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_id(writer: str, wseq: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{writer}:{wseq}"))


def event_hash(event: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical({name: event.get(name) for name in EVENT_FIELDS})).hexdigest()


def seal_id(family_id: str, number: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{family_id}:seal:{number}"))


def seal_mac(key: SealKey, seal: Mapping[str, Any]) -> str:
    body = canonical({name: seal.get(name) for name in SEAL_FIELDS})
    return hmac.new(key.secret, body, hashlib.sha256).hexdigest()


def seal_order(event: Mapping[str, Any]) -> tuple[int, str, str, int, str]:
    """Database second, writer's time, then each writer's own order; the id breaks any tie."""
    return (
        int(event.get("_ts") or 0),
        str(event.get("at") or ""),
        str(event.get("writer") or ""),
        int(event.get("wseq") or 0),
        str(event["id"]),
    )


def make_seal(
    key: SealKey,
    family_id: str,
    previous: Mapping[str, Any] | None,
    after: int,
    through: int,
    events: Iterable[Mapping[str, Any]],
    sealed_at: str,
) -> Document:
    listed = [[str(event["id"]), event_hash(event)] for event in sorted(events, key=seal_order)]
    number = int(previous["seal"]) + 1 if previous else 1
    first = int(previous["last"]) + 1 if previous else 1
    seal: Document = {
        "id": seal_id(family_id, number),
        "familyId": family_id,
        "type": SEAL_TYPE,
        "seal": number,
        "first": first,
        "last": first + len(listed) - 1,
        "after": after,
        "through": through,
        "events": listed,
        "prev": str(previous["mac"]) if previous else GENESIS,
        "keyId": key.key_id,
        "sealedAt": sealed_at,
    }
    seal["mac"] = seal_mac(key, seal)
    return seal


def anchor_line(seal: Mapping[str, Any]) -> dict[str, Any]:
    """What an anchor keeps of a seal: enough to find it and check it, no personal data."""
    return {
        "familyId": seal["familyId"],
        "seal": seal["seal"],
        "last": seal["last"],
        "through": seal["through"],
        "mac": seal["mac"],
        "keyId": seal["keyId"],
        "sealedAt": seal["sealedAt"],
    }


@dataclass(frozen=True)
class Head:
    """The sealed chain's end: the number of its last event and the MAC of its last seal."""

    seq: int
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash}

    @classmethod
    def parse(cls, text: str) -> Head:
        """``SEQ:HASH``, as printed by the verifier and recorded in exports and certificates."""
        seq, _, digest = text.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise ValueError("expected SEQ:HASH (a number, a colon and 64 hex digits)")
        return cls(int(seq), digest.lower())

    @classmethod
    def of(cls, seal: Mapping[str, Any] | None) -> Head | None:
        return cls(int(seal["last"]), str(seal["mac"])) if seal else None


@dataclass
class ChainReport:
    family_id: str
    events: int = 0
    seals: int = 0
    head: Head | None = None
    anchored: int | None = None
    pending: int = 0
    pending_ids: list[str] = field(default_factory=list)
    pending_since: str | None = None
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def problem(self, text: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)

    def as_dict(self) -> dict[str, Any]:
        return {
            "familyId": self.family_id,
            "ok": self.ok,
            "events": self.events,
            "seals": self.seals,
            "head": self.head.as_dict() if self.head else None,
            "anchoredSeal": self.anchored,
            "pending": {
                "count": self.pending,
                "since": self.pending_since,
                "eventIds": self.pending_ids,
            },
            "problemCount": self.problem_count,
            "problems": self.problems,
        }


def sealed_head(store: AuditStore, family_id: str) -> Head | None:
    return Head.of(store.last_seal(family_id))


class _Walk:
    """One pass over a family's seals, checking each against its events as it goes (memory
    stays at one seal's events)."""

    def __init__(self, store: AuditStore, key: SealKey, report: ChainReport) -> None:
        self.store = store
        self.key = key
        self.report = report
        self.family_id = report.family_id
        self.previous: Document | None = None
        self.macs: dict[int, str] = {}
        self.ends: dict[int, str] = {}

    def seal(self, seal: Document) -> None:
        report = self.report
        number = int(seal.get("seal") or 0)
        previous = self.previous
        expected = int(previous["seal"]) + 1 if previous else 1
        if previous is not None and number == int(previous["seal"]):
            report.problem(f"seal {number} appears more than once")
            return
        report.seals += 1
        if number > expected:
            gap = f"{expected}" if number == expected + 1 else f"{expected}-{number - 1}"
            report.problem(f"seals {gap} are missing")
        elif seal.get("prev") != (previous["mac"] if previous else GENESIS):
            report.problem(f"seal {number} does not follow seal {number - 1}: its prev differs")
        if seal.get("id") != seal_id(self.family_id, number):
            report.problem(f"seal {number} does not carry its own id")
        if seal.get("keyId") != self.key.key_id:
            report.problem(f"seal {number} was made with another key ({seal.get('keyId')})")
        elif not hmac.compare_digest(str(seal.get("mac")), seal_mac(self.key, seal)):
            report.problem(f"seal {number} was changed after it was made")
        self._events(seal, number)
        self.macs[number] = str(seal.get("mac"))
        self.ends[int(seal.get("last") or 0)] = str(seal.get("mac"))
        self.previous = seal

    def _events(self, seal: Document, number: int) -> None:
        report = self.report
        listed = seal.get("events") or []
        first = int(seal.get("first") or 0)
        if self.previous is not None and first != int(self.previous["last"]) + 1:
            report.problem(f"seal {number} does not continue the numbering of seal {number - 1}")
        if int(seal.get("last") or 0) - first + 1 != len(listed):
            report.problem(f"seal {number} miscounts its events")
        held = {
            str(event["id"]): event
            for event in self.store.events_between(
                self.family_id, int(seal.get("after") or 0), int(seal.get("through") or 0)
            )
        }
        for position, (listed_id, digest) in enumerate(listed, start=first):
            event = held.pop(str(listed_id), None)
            if event is None:
                moved = self.store.event(self.family_id, str(listed_id))
                if moved is None:
                    report.problem(f"event {position} is missing")
                else:
                    report.problem(f"event {position} was changed after it was sealed")
            elif event_hash(event) != digest:
                report.problem(f"event {position} was changed after it was sealed")
        for stray in held:
            report.problem(f"event {stray} was added to a sealed stretch (seal {number})")
        report.events += len(listed)


def verify_chain(
    store: AuditStore,
    anchors: AuditAnchors,
    key: SealKey,
    family_id: str,
    expect: Head | None = None,
) -> ChainReport:
    """Walk the family's seals once and report every break found, then the events not sealed
    yet. ``expect`` is a head recorded elsewhere (an export's manifest, a disposal
    certificate): the chain must still reach it, unchanged."""
    report = ChainReport(family_id)
    walk = _Walk(store, key, report)
    for seal in store.seals(family_id):
        walk.seal(seal)
    last = walk.previous
    report.head = Head.of(last)
    if expect is not None:
        _check_expected(report, walk, expect)
    _check_anchor(anchors, report, walk)
    _pending(store, report, int(last["through"]) if last else 0)
    for stray in store.stray_ids(family_id):
        report.problem(f"document {stray} is neither an event nor a seal")
    return report


def _check_expected(report: ChainReport, walk: _Walk, expect: Head) -> None:
    reached = report.head.seq if report.head else 0
    if reached < expect.seq:
        report.problem(f"the chain ends at event {reached} but event {expect.seq} was recorded")
    elif expect.seq not in walk.ends:
        report.problem(f"no seal ends at the recorded head (event {expect.seq})")
    elif walk.ends[expect.seq] != expect.hash:
        report.problem(f"the chain differs from the recorded head at event {expect.seq}")


def latest_anchor(anchors: AuditAnchors, family_id: str) -> dict[str, Any] | None:
    months = anchors.months(family_id)
    if not months:
        return None
    lines = anchors.lines(family_id, months[-1])
    return max(lines, key=lambda line: int(line.get("seal") or 0), default=None)


def _check_anchor(anchors: AuditAnchors, report: ChainReport, walk: _Walk) -> None:
    """The latest anchor must name a seal the chain holds, with the same MAC. Each seal's MAC
    covers its predecessor's, so this one comparison covers the whole chain up to it."""
    anchor = latest_anchor(anchors, report.family_id)
    if anchor is None:
        return
    number = int(anchor.get("seal") or 0)
    report.anchored = number
    held = walk.macs.get(number)
    last = int(walk.previous["seal"]) if walk.previous else 0
    if held is None and number > last:
        cut = f"{number}" if number == last + 1 else f"{last + 1}-{number}"
        report.problem(f"seals {cut} are anchored but missing: the chain was cut short")
    elif held != anchor.get("mac"):
        report.problem(f"seal {number} differs from its anchor")


def _pending(store: AuditStore, report: ChainReport, after: int) -> None:
    waiting = store.events_between(report.family_id, after, None, MAX_PENDING_LISTED)
    report.pending = (
        len(waiting)
        if len(waiting) < MAX_PENDING_LISTED
        else store.count_events_after(report.family_id, after)
    )
    report.pending_ids = [str(event["id"]) for event in waiting]
    if waiting:
        report.pending_since = min(str(event.get("at") or "") for event in waiting) or None
