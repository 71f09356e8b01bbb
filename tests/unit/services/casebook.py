"""A family's case on the in-memory ports: its team's staff, the family, a member who signed
in, and helpers to act as each of them through the real services."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from shared.access import Caller
from shared.identity import Principal
from shared.records import models
from shared.records.kinds import NOTE
from shared.records.service import RecordService
from shared.services import case, families
from tests.fakes import FakeRuntime

PHONE = "+447700900123"


def uid() -> str:
    return str(uuid.uuid4())


def staff(runtime: FakeRuntime, role: str, teams: tuple[str, ...] = ()) -> Caller:
    oid = uid()
    tenant = runtime.settings.staff_tenant_id
    runtime.directory.upsert(
        {"id": f"staff:{tenant}:{oid}", "type": "staff", "oid": oid,
         "displayName": role, "teamIds": list(teams)}
    )  # fmt: skip
    principal = Principal(tenant, oid, role, "staff", frozenset({role}))
    return Caller(principal, team_ids=frozenset(teams))


def signed_in(runtime: FakeRuntime, memberships: dict[str, str], phone: str = PHONE) -> Caller:
    principal = Principal(runtime.settings.family_tenant_id, uid(), "Parent", "family", phone=phone)
    return Caller(principal, memberships=memberships)


@dataclass
class Casebook:
    runtime: FakeRuntime = field(default_factory=FakeRuntime)
    team: str = field(default_factory=uid)
    other_team: str = field(default_factory=uid)

    def __post_init__(self) -> None:
        runtime = self.runtime
        self.worker = staff(runtime, "SocialWorker", (self.team,))
        self.manager = staff(runtime, "TeamManager", (self.team,))
        self.head = staff(runtime, "HeadOfService")
        self.outsider = staff(runtime, "SocialWorker", (self.other_team,))
        self.admin = staff(runtime, "Admin")
        self.family_id = self.new_family(self.worker)
        member = case.create_member(
            runtime,
            self.worker,
            self.family_id,
            models.MemberIn.model_validate(
                {"displayName": "Sam", "relationship": "parent", "phone": PHONE}
            ),
        )
        self.member_id = str(member.document["id"])
        self.parent = signed_in(runtime, {self.family_id: self.member_id})

    @property
    def service(self) -> RecordService:
        return RecordService(self.runtime)

    def new_family(self, by: Caller, **fields: Any) -> str:
        body = models.FamilyIn.model_validate(
            {"displayName": "The Family", "teamId": self.team, **fields}
        )
        return str(families.create_family(self.runtime, by, body).document["id"])

    def note(self, by: Caller | None = None, **fields: Any) -> dict[str, Any]:
        body = NOTE.create.model_validate({"body": "Visited at home.", **fields})
        made = self.service.create(by or self.worker, NOTE, self.family_id, body)
        return made.document

    def events(self, family_id: str | None = None) -> list[tuple[str, str]]:
        """(action, outcome) of the family's audit events, in order."""
        found = self.runtime.audit_store.events(family_id or self.family_id)
        return [(e["action"], e["outcome"]) for e in found]
