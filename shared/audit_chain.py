"""The hash chain over a family's audit events, and its verifier.

Each event carries ``seq`` (1, 2, 3, ... per family), ``prev`` (the hash of event ``seq - 1``, or
``GENESIS`` for the first) and ``hash`` (SHA-256 over its own canonical JSON, ``prev``
included). Its ``id`` is derived from the family and ``seq``, and Cosmos DB keeps ids unique
within a partition, so two writers can never both append event ``n``: the loser's create is a
409 and it appends after the winner. The chain cannot fork, and no head document has to be
updated on every read of a record.

What the verifier finds: an event changed after it was written (its hash), an event removed
from the middle (a gap in ``seq``, or a ``prev`` that no longer matches), an event added outside
the chain, and, given an anchor kept elsewhere (an export's or a disposal certificate's head),
events removed from the end. What it cannot find: someone with write access to the container
rewriting every event from some point to the end, or appending well-formed events; the hash is
not keyed, so the anchors held outside the database are what make a rewrite visible.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.ports.audit import AuditStore

GENESIS = "0" * 64
NAMESPACE = uuid.UUID("6f1c2d8e-4b7a-5e3c-9a1d-2b8f0c7e6a54")
CHAINED_FIELDS = (
    "id",
    "familyId",
    "type",
    "seq",
    "at",
    "actor",
    "action",
    "recordType",
    "recordId",
    "outcome",
    "detail",
    "prev",
)
MAX_PROBLEMS = 100


def event_id(family_id: str, seq: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{family_id}:{seq}"))


def event_hash(event: Mapping[str, Any]) -> str:
    body = {name: event.get(name) for name in CHAINED_FIELDS}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Head:
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


@dataclass
class ChainReport:
    family_id: str
    events: int = 0
    head: Head | None = None
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
            "head": self.head.as_dict() if self.head else None,
            "problemCount": self.problem_count,
            "problems": self.problems,
        }


def read_head(store: AuditStore, family_id: str) -> Head | None:
    found = store.head(family_id)
    return Head(*found) if found else None


def verify_chain(store: AuditStore, family_id: str, expect: Head | None = None) -> ChainReport:
    """Walk the family's chain once (memory stays flat) and report every break found."""
    report = ChainReport(family_id)
    previous: Head | None = None
    for event in store.chained(family_id):
        seq = int(event["seq"])
        report.events += 1
        expected_seq = previous.seq + 1 if previous else 1
        if previous is not None and seq == previous.seq:
            report.problem(f"event {seq} appears more than once")
            continue
        if seq > expected_seq:
            missing = f"{expected_seq}" if seq == expected_seq + 1 else f"{expected_seq}-{seq - 1}"
            report.problem(f"events {missing} are missing")
        elif event.get("prev") != (previous.hash if previous else GENESIS):
            report.problem(f"event {seq} does not follow event {seq - 1}: its prev hash differs")
        if event.get("id") != event_id(family_id, seq):
            report.problem(f"event {seq} does not carry its own id")
        if event.get("hash") != event_hash(event):
            report.problem(f"event {seq} was changed after it was written")
        previous = Head(seq, str(event.get("hash")))
        if expect is not None and seq == expect.seq and previous.hash != expect.hash:
            report.problem(f"event {seq} differs from the recorded head")
    report.head = previous
    if expect is not None and (previous is None or previous.seq < expect.seq):
        last = previous.seq if previous else 0
        report.problem(f"the chain ends at event {last} but event {expect.seq} was recorded")
    for stray in store.unchained_ids(family_id):
        report.events += 1
        report.problem(f"event {stray} is outside the chain")
    return report
