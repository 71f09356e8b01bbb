"""One simulated device: a social worker's or a family member's app, online, over HTTP.

It keeps two copies: ``copy`` is what its sync pulls gave it (the one the checks judge) and
``known`` is everything it has learned (pulls, REST answers, push results), which it uses to
choose what to change and with which version. Each action is timed under its operation name.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench._load_check import MARKER, Ack, DeviceCopy, Ledger, Sample

COLLECTIONS = {"note": "notes", "agenda": "agendas", "plan": "plans", "visit": "visits"}
SHAREABLE = ("note", "agenda", "plan")
WRITES_PER_RECORD = 12
TOGGLES_PER_RECORD = 3
PULL_LIMIT = 200


@dataclass(frozen=True)
class Person:
    name: str
    kind: str
    oid: str
    token: str
    families: frozenset[str]


@dataclass
class Budget:
    """Writes per record stay inside the change log a record remembers (20 versions), so every
    acknowledged version can be found in its history afterwards."""

    writes: Counter[str] = field(default_factory=Counter)
    toggles: Counter[str] = field(default_factory=Counter)

    def take(self, record_id: str) -> bool:
        if self.writes[record_id] >= WRITES_PER_RECORD:
            return False
        self.writes[record_id] += 1
        return True

    def toggle(self, record_id: str) -> bool:
        if self.toggles[record_id] >= TOGGLES_PER_RECORD or not self.take(record_id):
            return False
        self.toggles[record_id] += 1
        return True


def new_id() -> str:
    return str(uuid.uuid4())


def marker_of(data: Mapping[str, Any]) -> str:
    for name in ("body", "title", "location"):
        found = MARKER.search(str(data.get(name) or ""))
        if found:
            return found.group(0)
    return ""


class Device:
    def __init__(
        self,
        person: Person,
        client: httpx.AsyncClient,
        ledger: Ledger,
        budget: Budget,
        rng: random.Random,
    ) -> None:
        self.person = person
        self.client = client
        self.ledger = ledger
        self.budget = budget
        self.rng = rng
        self.copy = DeviceCopy(person.name, person.kind, person.families)
        self.known: dict[str, dict[str, Any]] = {}
        self.since: str | None = None
        self.seq = 0
        self.pushed: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]] = []
        self.posted: list[tuple[str, dict[str, Any]]] = []
        # The host's CPU clock, while this device is the only one sending: each sample then
        # carries the CPU the host spent on it.
        self.meter: Callable[[], float] | None = None

    @property
    def staff(self) -> bool:
        return self.person.kind == "staff"

    # --- plumbing -----------------------------------------------------------------------------

    async def call(
        self,
        operation: str,
        method: str,
        path: str,
        allowed: set[int],
        body: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response | None:
        sent = {"Authorization": f"Bearer {self.person.token}", **(headers or {})}
        meter = self.meter
        cpu = meter() if meter else 0.0
        started = time.perf_counter()
        try:
            response = await self.client.request(
                method, path, json=body, params=params, headers=sent
            )
        except httpx.HTTPError as error:
            self.ledger.samples.append(Sample(operation, 0, time.perf_counter() - started))
            self.ledger.problem(f"{operation}: {method} {path} got no answer ({error!r})")
            return None
        took = time.perf_counter() - started
        spent = meter() - cpu if meter else None
        failed = response.status_code >= 500
        detail = f"({self.person.name}: {method} {path}: {response.text[:300]})" if failed else ""
        self.ledger.samples.append(Sample(operation, response.status_code, took, detail, spent))
        if response.status_code not in allowed and response.status_code < 500:
            self.ledger.problem(
                f"{operation}: {method} {path} answered {response.status_code}: "
                f"{response.text[:300]}"
            )
        return response

    def marker(self) -> str:
        self.seq += 1
        return f"[load:{self.person.name}-{self.seq}]"

    def family(self) -> str:
        return self.rng.choice(sorted(self.person.families))

    def inspect(self, record: Mapping[str, Any], via: str) -> None:
        """Anything a response carries must be the caller's to see. ``via`` names the exchange
        (operation, method and path) for the report."""
        family = record.get("familyId") or record.get("id")
        what = f"{record.get('type')} {record.get('id')} version {record.get('version')}"
        if family not in self.person.families:
            self.ledger.problem(f"leak: {self.person.name} was sent {what} of {family} ({via})")
        elif not self.staff and record.get("visibility", "family") != "family":
            self.ledger.problem(
                f"leak: {self.person.name} was sent {what} marked "
                f"{record.get('visibility')} ({via})"
            )

    def learn(self, record: Mapping[str, Any], via: str) -> None:
        self.inspect(record, via)
        self.known[str(record["id"])] = {
            "type": record["type"],
            "id": record["id"],
            "familyId": record.get("familyId", record["id"]),
            "version": record["version"],
            "data": dict(record),
        }

    def ack(
        self, action: str, record_type: str, record_id: str, family_id: str, **more: str
    ) -> None:
        self.ledger.acks.append(
            Ack(self.person.name, action, record_type, record_id, family_id, **more)
        )

    def pick(self, types: tuple[str, ...], own: bool = False) -> dict[str, Any] | None:
        candidates = [
            r
            for r in self.known.values()
            if r["type"] in types
            and (not own or (r["data"].get("createdBy") or {}).get("id") == self.person.oid)
        ]
        return self.rng.choice(candidates) if candidates else None

    def path(self, record: Mapping[str, Any]) -> str:
        family = record["familyId"]
        if record["type"] == "comment":
            return f"/families/{family}/comments/{record['id']}"
        return f"/families/{family}/{COLLECTIONS[record['type']]}/{record['id']}"

    # --- sync ---------------------------------------------------------------------------------

    async def pull(self) -> bool:
        """Pull to exhaustion; False if a page failed."""
        while True:
            params = {"limit": str(PULL_LIMIT), **({"since": self.since} if self.since else {})}
            response = await self.call("pull", "GET", "/sync", {200}, params=params)
            if response is None or response.status_code != 200:
                return False
            page = response.json()
            changes = page["changes"]
            ids = [c["id"] for c in changes]
            if len(ids) != len(set(ids)):
                self.ledger.problem(f"duplicate: a sync page to {self.person.name} repeats an id")
            for change in changes:
                if change["deleted"]:
                    self.known.pop(change["id"], None)
                else:
                    self.inspect(
                        {**change["data"], "familyId": change["familyId"]}, "pull GET /sync"
                    )
                    self.known[change["id"]] = {**change, "data": dict(change["data"])}
            self.copy.apply(changes)
            self.since = page["next"]
            if not page["more"]:
                return True

    async def push(self, operations: list[dict[str, Any]]) -> None:
        response = await self.call("push", "POST", "/sync", {200}, {"operations": operations})
        if response is None or response.status_code != 200:
            return
        results = response.json()["results"]
        self.pushed.append((operations, results))
        for operation, result in zip(operations, results, strict=True):
            self.settle(operation, result)

    def settle(self, operation: Mapping[str, Any], result: Mapping[str, Any]) -> None:
        if result.get("opId") != operation["opId"]:
            self.ledger.problem(f"push: result {result.get('opId')} for {operation['opId']}")
            return
        status = result["status"]
        kind, family = operation["type"], operation["familyId"]
        if status == "applied":
            version = str(result.get("version") or "")
            if kind == "agendaItem":
                agenda = str(operation["data"]["agendaId"])
                self.ack("item", "agenda", operation["id"], family, parent=agenda, via="push")
                self.ack("update", "agenda", agenda, family, version=version, via="push")
                if agenda in self.known:
                    self.known[agenda]["version"] = version
                return
            self.ack(
                operation["action"], kind, operation["id"], family, version=version, via="push"
            )
            if operation["action"] == "delete":
                self.known.pop(operation["id"], None)
            elif operation["action"] == "create":
                data = {**operation["data"], "createdBy": {"id": self.person.oid}}
                self.known[operation["id"]] = {
                    "type": kind,
                    "id": operation["id"],
                    "familyId": family,
                    "version": version,
                    "data": data,
                }
            elif operation["id"] in self.known:
                entry = self.known[operation["id"]]
                entry["version"] = version
                entry["data"] = {**entry["data"], **operation["data"]}
        elif status == "conflict":
            self.ledger.conflicts += 1
            if result.get("current"):
                self.learn(result["current"], f"push conflict of {operation['opId']}")
        else:
            problem = result.get("problem") or {}
            if problem.get("status") not in (404, 409, 412):
                self.ledger.problem(f"push: {operation['type']} {operation['action']}: {problem}")
            elif problem.get("status") == 404:
                self.known.pop(operation["id"], None)

    # --- actions ------------------------------------------------------------------------------

    def new_record(self, kind: str) -> dict[str, Any]:
        marker = self.marker()
        if kind == "note":
            body: dict[str, Any] = {"body": f"{marker} What we talked about today."}
            if self.staff:
                body["visibility"] = self.rng.choice(["family", "professionals"])
            return body
        if kind == "agenda":
            return {"title": f"{marker} Next visit", "items": [{"id": new_id(), "text": "School"}]}
        if kind == "plan":
            action = {"id": new_id(), "text": "Call the school", "owner": "Sam"}
            return {"title": f"{marker} Plan", "actions": [action]}
        day = self.rng.randint(1, 28)
        return {
            "startsAt": f"2027-02-{day:02d}T10:00:00Z",
            "endsAt": f"2027-02-{day:02d}T11:00:00Z",
            "location": f"{marker} Home",
        }

    def change_of(self, record: Mapping[str, Any]) -> dict[str, Any]:
        text = f"{marker_of(record['data'])} edited by {self.person.name} ({self.seq})"
        self.seq += 1
        field_name = {"agenda": "title", "plan": "title", "visit": "location"}.get(
            record["type"], "body"
        )
        return {field_name: text.strip()}

    def creatable(self) -> str:
        return self.rng.choice(list(COLLECTIONS)) if self.staff else "note"

    def editable(self) -> dict[str, Any] | None:
        if self.staff and self.rng.random() < 0.8:
            return self.pick((*COLLECTIONS,))
        return self.pick(("note", "comment"), own=True)

    async def create(self) -> None:
        kind = self.creatable()
        family = self.family()
        body = {"id": new_id(), **self.new_record(kind)}
        path = f"/families/{family}/{COLLECTIONS[kind]}"
        response = await self.call("create", "POST", path, {201}, body)
        if response is not None and response.status_code == 201:
            record = response.json()
            self.ack("create", kind, record["id"], family, version=record["version"])
            self.learn(record, f"create POST {path}")
            self.posted.append((path, body))

    async def update(self) -> None:
        record = self.editable()
        if record is None or not self.budget.take(record["id"]):
            return
        headers = {"If-Match": f'"{record["version"]}"'}
        response = await self.call(
            "update",
            "PATCH",
            self.path(record),
            {200, 404, 412},
            self.change_of(record),
            None,
            headers,
        )
        await self.settle_rest(record, response, "update PATCH")

    async def settle_rest(
        self, record: Mapping[str, Any], response: httpx.Response | None, exchange: str
    ) -> None:
        if response is None:
            return
        via = f"{exchange} {self.path(record)} answered {response.status_code}"
        if response.status_code == 200:
            stored = response.json()
            self.ack(
                "update",
                record["type"],
                record["id"],
                record["familyId"],
                version=stored["version"],
            )
            self.learn(stored, via)
        elif response.status_code == 412:
            self.ledger.conflicts += 1
            current = response.json().get("current")
            if current:
                self.learn(current, via)
        elif response.status_code == 404:
            self.known.pop(record["id"], None)

    async def share(self) -> None:
        record = self.pick(SHAREABLE)
        if record is None or not self.budget.toggle(record["id"]):
            return
        now = record["data"].get("visibility", "family")
        body = {"visibility": "professionals" if now == "family" else "family"}
        headers = {"If-Match": f'"{record["version"]}"'}
        response = await self.call(
            "share", "PATCH", self.path(record), {200, 404, 412}, body, None, headers
        )
        await self.settle_rest(record, response, "share PATCH")

    async def delete(self) -> None:
        record = self.pick(SHAREABLE) if self.staff else self.pick(("note", "comment"), own=True)
        if record is None or not self.budget.take(record["id"]):
            return
        headers = {"If-Match": f'"{record["version"]}"'}
        response = await self.call(
            "delete", "DELETE", self.path(record), {204, 404, 412}, None, None, headers
        )
        if response is not None and response.status_code == 204:
            self.ack("delete", record["type"], record["id"], record["familyId"])
            self.known.pop(record["id"], None)
        elif response is not None:
            await self.settle_rest(record, response, "delete DELETE")

    async def comment(self) -> None:
        target = self.pick(SHAREABLE)
        if target is None:
            return
        family = target["familyId"]
        path = f"/families/{family}/{COLLECTIONS[target['type']]}/{target['id']}/comments"
        body = {"id": new_id(), "body": f"{self.marker()} A comment."}
        response = await self.call("comment", "POST", path, {201, 404}, body)
        if response is not None and response.status_code == 201:
            record = response.json()
            self.ack("create", "comment", record["id"], family, version=record["version"])
            self.learn(record, f"comment POST {path}")
        elif response is not None:
            self.known.pop(target["id"], None)

    async def add_item(self) -> None:
        agenda = self.pick(("agenda",))
        if agenda is None or not self.budget.take(agenda["id"]):
            return
        family = agenda["familyId"]
        path = f"/families/{family}/agendas/{agenda['id']}/items"
        item = {"id": new_id(), "text": f"{self.marker()} Something to talk about"}
        response = await self.call("item", "POST", path, {201, 404, 412}, item)
        if response is not None and response.status_code == 201:
            stored = response.json()
            self.ack("item", "agenda", item["id"], family, parent=agenda["id"])
            self.ack("update", "agenda", agenda["id"], family, version=stored["version"])
            self.learn(stored, f"item POST {path}")
        elif response is not None and response.status_code == 404:
            self.known.pop(agenda["id"], None)

    async def read(self) -> None:
        record = self.pick((*COLLECTIONS,))
        if record is None or record["type"] == "comment" or self.rng.random() < 0.5:
            family = self.family()
            kind = self.rng.choice(list(COLLECTIONS))
            path = f"/families/{family}/{COLLECTIONS[kind]}"
            response = await self.call("read", "GET", path, {200}, params={"limit": "20"})
            if response is not None and response.status_code == 200:
                for item in response.json()["items"]:
                    self.inspect(item, f"read GET {path}")
            return
        headers = {"If-None-Match": f'"{record["version"]}"'}
        response = await self.call(
            "read", "GET", self.path(record), {200, 304, 404}, None, None, headers
        )
        if response is not None and response.status_code == 200:
            self.learn(response.json(), f"read GET {self.path(record)}")
        elif response is not None and response.status_code == 404:
            self.known.pop(record["id"], None)

    async def push_batch(self) -> None:
        operations = [op for op in (self.operation() for _ in range(self.rng.randint(1, 5))) if op]
        if operations:
            await self.push(operations)

    def operation(self) -> dict[str, Any] | None:
        self.seq += 1
        envelope = {"opId": f"{self.person.name}-op-{self.seq}", "id": new_id()}
        roll = self.rng.random()
        if roll < 0.35:
            kind = self.creatable()
            family = self.family()
            return {
                **envelope,
                "type": kind,
                "action": "create",
                "familyId": family,
                "data": self.new_record(kind),
            }
        if roll < 0.6:
            record = self.editable()
            if record is None or not self.budget.take(record["id"]):
                return None
            return {
                **envelope,
                "type": record["type"],
                "action": "update",
                "id": record["id"],
                "familyId": record["familyId"],
                "baseVersion": record["version"],
                "data": self.change_of(record),
            }
        if roll < 0.8:
            target = self.pick(SHAREABLE)
            if target is None:
                return None
            data = {
                "targetType": COLLECTIONS[target["type"]],
                "targetId": target["id"],
                "body": f"{self.marker()} A comment sent later.",
            }
            return {
                **envelope,
                "type": "comment",
                "action": "create",
                "familyId": target["familyId"],
                "data": data,
            }
        if roll < 0.95:
            agenda = self.pick(("agenda",))
            if agenda is None or not self.budget.take(agenda["id"]):
                return None
            data = {"agendaId": agenda["id"], "text": f"{self.marker()} Added offline"}
            return {
                **envelope,
                "type": "agendaItem",
                "action": "create",
                "familyId": agenda["familyId"],
                "data": data,
            }
        record = self.pick(SHAREABLE) if self.staff else self.pick(("note",), own=True)
        if record is None or not self.budget.take(record["id"]):
            return None
        return {
            **envelope,
            "type": record["type"],
            "action": "delete",
            "id": record["id"],
            "familyId": record["familyId"],
            "baseVersion": record["version"],
        }

    async def replay(self) -> None:
        """A device that lost an answer sends the same request again."""
        if self.pushed and (not self.posted or self.rng.random() < 0.6):
            operations, first = self.rng.choice(self.pushed)
            response = await self.call("replay", "POST", "/sync", {200}, {"operations": operations})
            if response is not None and response.status_code == 200:
                self.ledger.replays += 1
                again = response.json()["results"]
                if again != first:
                    self.ledger.problem(
                        f"replay: {self.person.name}'s push answered {again} then {first}"
                    )
            return
        if self.posted:
            path, body = self.rng.choice(self.posted)
            response = await self.call("replay", "POST", path, {200, 404, 409}, body)
            if response is not None:
                self.ledger.replays += 1
                if response.status_code == 200:
                    record = response.json()
                    self.inspect(record, f"replay POST {path}")
                    if record["id"] != body["id"]:
                        self.ledger.problem(f"replay: {path} answered another record")

    # --- the loop -----------------------------------------------------------------------------

    def weights(self) -> dict[str, int]:
        if self.staff:
            return {
                "create": 12,
                "update": 12,
                "comment": 10,
                "add_item": 5,
                "share": 6,
                "delete": 3,
                "push_batch": 15,
                "pull": 15,
                "read": 10,
                "replay": 3,
            }
        return {
            "create": 10,
            "update": 8,
            "comment": 12,
            "add_item": 8,
            "delete": 2,
            "push_batch": 15,
            "pull": 20,
            "read": 12,
            "replay": 3,
        }

    async def act(self, name: str) -> None:
        await getattr(self, name)()

    async def run(self, deadline: float, think: float) -> None:
        while time.monotonic() < deadline:
            await self.step()
            if think:
                await asyncio.sleep(self.rng.uniform(0, 2 * think))

    async def step(self) -> None:
        """One action, chosen as ``run`` chooses them."""
        weights = self.weights()
        await self.act(self.rng.choices(list(weights), list(weights.values()))[0])
