"""What a load run must leave true, checked against the server's own documents.

Pure functions over plain data (no network), so the checks can be shown to fail on planted
faults. A run hands over its ``Ledger`` (every response and every acknowledged write), each
device's final synced copy, and the raw documents of every family read from the database.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

ALWAYS_VISIBLE = frozenset({"family", "member", "visit"})
SYNC_TYPES = frozenset({"family", "member", "visit", "agenda", "note", "plan", "comment", "media"})
HISTORY_LENGTH = 20
MARKER = re.compile(r"\[load:[A-Za-z0-9-]+\]")


@dataclass(frozen=True)
class Sample:
    """One HTTP exchange: the operation it served, its status (0: no answer) and its time;
    ``detail`` says who sent what, and what a failure answered; ``cpu``, when measured, the CPU
    seconds the host spent meanwhile."""

    operation: str
    status: int
    seconds: float
    detail: str = ""
    cpu: float | None = None


@dataclass(frozen=True)
class Ack:
    """A write the server acknowledged (2xx, or ``applied`` in a push result).

    ``action`` is create, update, delete or item (an agenda item, whose ``id`` is the item's and
    ``parent`` the agenda's). ``version`` is what the acknowledgement named ("" when none).
    """

    device: str
    action: str
    record_type: str
    id: str
    family_id: str
    version: str = ""
    parent: str = ""
    via: str = "rest"


@dataclass
class Ledger:
    samples: list[Sample] = field(default_factory=list)
    acks: list[Ack] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    conflicts: int = 0
    replays: int = 0

    def problem(self, text: str) -> None:
        self.problems.append(text)


@dataclass
class DeviceCopy:
    """A device's synced copy: what its pulls left it holding, by record id."""

    name: str
    kind: str
    families: frozenset[str]
    holdings: dict[str, dict[str, Any]] = field(default_factory=dict)

    def apply(self, changes: Iterable[Mapping[str, Any]]) -> None:
        for change in changes:
            if change["deleted"]:
                self.holdings.pop(str(change["id"]), None)
            else:
                self.holdings[str(change["id"])] = dict(change)


def version_of(document: Mapping[str, Any]) -> str:
    return str(document.get("_etag", "")).strip('"')


def lineage(document: Mapping[str, Any]) -> list[str]:
    """Every version the document has had that its change log remembers, oldest first."""
    return [str(e.get("base")) for e in document.get("changeLog", [])] + [version_of(document)]


def may_see(kind: str, families: frozenset[str], document: Mapping[str, Any]) -> bool:
    """The access rules: staff see every record of their families; family members only the
    family, its members and visits, and records shared with the family."""
    if document.get("deleted") or document.get("familyId") not in families:
        return False
    if kind == "staff":
        return True
    return document.get("type") in ALWAYS_VISIBLE or document.get("visibility") == "family"


def markers(document: Mapping[str, Any]) -> list[str]:
    text = " ".join(str(document.get(name) or "") for name in ("body", "title", "location"))
    return MARKER.findall(text)


def check(
    ledger: Ledger,
    server: Mapping[str, Mapping[str, Any]],
    devices: Iterable[DeviceCopy],
    served: Mapping[str, str] | None = None,
) -> list[str]:
    """Every broken invariant, in words; empty when the run was sound.

    ``server`` holds the raw documents (tombstones included) of every family, by id;
    ``served`` is what an allocated member of staff read back through the API (id -> version).
    """
    problems = list(ledger.problems)
    problems += [
        f"{s.operation}: status {s.status} {s.detail}".rstrip()
        for s in ledger.samples
        if s.status >= 500
    ]
    problems += [f"{s.operation}: no answer" for s in ledger.samples if s.status == 0]
    problems += lost_writes(ledger.acks, server, served)
    problems += duplicates(ledger.acks, server)
    problems += comment_visibility(server)
    for device in devices:
        problems += device_problems(device, server)
    return problems


def lost_writes(
    acks: list[Ack], server: Mapping[str, Mapping[str, Any]], served: Mapping[str, str] | None
) -> list[str]:
    problems: list[str] = []
    deleted = {a.id for a in acks if a.action == "delete"}
    for ack in acks:
        if ack.action == "item":
            agenda = server.get(ack.parent)
            if agenda is None:
                problems.append(f"lost write: agenda {ack.parent} of item {ack.id} is gone")
            elif not agenda.get("deleted") and ack.id not in {
                i.get("id") for i in agenda.get("items", [])
            }:
                problems.append(f"lost write: item {ack.id} is not on agenda {ack.parent}")
            continue
        document = server.get(ack.id)
        if document is None or document.get("familyId") != ack.family_id:
            problems.append(f"lost write: {ack.record_type} {ack.id} ({ack.action}) is not held")
            continue
        if ack.action == "delete" and not document.get("deleted"):
            problems.append(
                f"lost write: {ack.record_type} {ack.id} was deleted ({ack.via} by {ack.device}) "
                f"but is back as {version_of(document)}"
            )
        if ack.action != "delete" and document.get("deleted") and ack.id not in deleted:
            problems.append(
                f"lost write: {ack.record_type} {ack.id} deleted by nobody "
                f"({ack.action} by {ack.device} acknowledged {ack.version or 'no version'})"
            )
        versions = lineage(document)
        remembered = len(document.get("changeLog", [])) < HISTORY_LENGTH
        if ack.version and remembered and ack.version not in versions:
            problems.append(
                f"lost write: {ack.record_type} {ack.id} version {ack.version} "
                f"({ack.action} by {ack.device}) is not in its history"
            )
    if served is not None:
        for record_id, document in server.items():
            if document.get("deleted"):
                if record_id in served:
                    problems.append(f"read back: deleted {record_id} is still served")
            elif served.get(record_id) != version_of(document):
                problems.append(
                    f"read back: {document.get('type')} {record_id} served as "
                    f"{served.get(record_id)}, held as {version_of(document)}"
                )
    return problems


def duplicates(acks: list[Ack], server: Mapping[str, Mapping[str, Any]]) -> list[str]:
    problems: list[str] = []
    created = Counter(a.id for a in acks if a.action == "create")
    problems += [
        f"duplicate: create of {i} acknowledged {n} times" for i, n in created.items() if n > 1
    ]
    seen: dict[str, list[str]] = defaultdict(list)
    items: dict[str, list[str]] = defaultdict(list)
    for record_id, document in server.items():
        for marker in set(markers(document)):
            seen[marker].append(record_id)
        for item in document.get("items", []):
            items[str(item.get("id"))].append(record_id)
            for marker in MARKER.findall(str(item.get("text") or "")):
                items[marker].append(f"{record_id}/{item.get('id')}")
    problems += [
        f"duplicate: {m} is on {len(ids)} records ({', '.join(sorted(ids))})"
        for m, ids in seen.items()
        if len(ids) > 1
    ]
    problems += [
        f"duplicate: agenda item {k} held {len(v)} times ({', '.join(sorted(v))})"
        for k, v in items.items()
        if len(v) > 1
    ]
    ours = {a.id for a in acks if a.action == "create"}
    creators = {a.device for a in acks}
    for record_id, document in server.items():
        author = (document.get("createdBy") or {}).get("name")
        if author in creators and record_id not in ours and document.get("type") != "family":
            problems.append(
                f"unacknowledged write: {document.get('type')} {record_id} by {author} is held"
            )
    return problems


def comment_visibility(server: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """A comment is shared exactly when what it comments on is."""
    problems: list[str] = []
    for record_id, document in server.items():
        if document.get("type") != "comment" or document.get("deleted"):
            continue
        target = server.get(str(document.get("targetId")))
        if target is not None and target.get("visibility") != document.get("visibility"):
            problems.append(
                f"leak: comment {record_id} is {document.get('visibility')!r} on a "
                f"{target.get('visibility')!r} {target.get('type')}"
            )
    return problems


def device_problems(device: DeviceCopy, server: Mapping[str, Mapping[str, Any]]) -> list[str]:
    problems: list[str] = []
    for record_id, change in device.holdings.items():
        document = server.get(record_id)
        if document is None:
            problems.append(f"{device.name} holds {record_id}, which the server never held")
        elif document.get("deleted"):
            problems.append(f"{device.name} still holds deleted {document.get('type')} {record_id}")
        elif not may_see(device.kind, device.families, document):
            problems.append(
                f"leak: {device.name} holds {document.get('type')} {record_id} "
                f"({document.get('visibility') or 'no visibility'} in {document.get('familyId')})"
            )
        elif change.get("version") != version_of(document):
            problems.append(
                f"{device.name} holds a stale {document.get('type')} {record_id} "
                f"({change.get('version')}, held as {version_of(document)})"
            )
        elif change.get("familyId") != document.get("familyId"):
            problems.append(f"leak: {device.name} holds {record_id} under another family")
        else:
            problems += data_leaks(device, change)
    for record_id, document in server.items():
        shown = document.get("type") in SYNC_TYPES
        if (
            shown
            and may_see(device.kind, device.families, document)
            and record_id not in device.holdings
        ):
            problems.append(
                f"missing: {device.name} lacks {document.get('type')} {record_id} "
                f"({version_of(document)})"
            )
    return problems


def data_leaks(device: DeviceCopy, change: Mapping[str, Any]) -> list[str]:
    """What a family member's copy of a visible record must not carry."""
    if device.kind == "staff":
        return []
    data = change.get("data") or {}
    name = f"leak: {device.name} holds {change.get('type')} {change.get('id')}"
    if data.get("visibility", "family") != "family":
        return [f"{name} marked {data.get('visibility')}"]
    staff_only = {"workerIds", "teamId", "retentionClass", "legalHold", "retainUntil"}
    if change.get("type") == "family" and staff_only & set(data):
        return [f"{name} with staff-only fields"]
    return []


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` from 0 to 1) of ``values``."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-int(share * 1000) * len(ordered) // 1000))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class Latency:
    operation: str
    count: int
    p50: float
    p95: float
    p99: float


def latencies(samples: Iterable[Sample]) -> list[Latency]:
    """Per operation, then ``all``: count and p50/p95/p99 in seconds (answered requests)."""
    by_operation: dict[str, list[float]] = defaultdict(list)
    for sample in samples:
        if sample.status:
            by_operation[sample.operation].append(sample.seconds)
            by_operation["all"].append(sample.seconds)
    return [
        Latency(
            name,
            len(values),
            percentile(values, 0.50),
            percentile(values, 0.95),
            percentile(values, 0.99),
        )
        for name, values in sorted(by_operation.items(), key=lambda kv: (kv[0] == "all", kv[0]))
    ]
