"""Request and response models of partner agencies' grants and of "who can see my story"."""

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from shared.models import ApiModel, InputModel
from shared.records.models import Actor, FamilyRecordOut, Id, Name, Text, UtcDateTime

Scope = Literal["visits", "agendas", "plans", "notes", "media"]
Agency = Literal["education", "health", "police", "housing", "voluntary", "other"]
LawfulBasis = Literal[
    "children-act-1989-s17",
    "children-act-1989-s47",
    "children-act-2004-s11",
    "consent",
    "other",
]
WriteVisibility = Literal["partners", "family"]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Scopes = Annotated[list[Scope], Field(min_length=1, max_length=5)]


class GrantIn(InputModel):
    id: Id | None = None
    partner_oid: Id
    display_name: Name
    organisation: Text
    agency: Agency
    scopes: Scopes
    lawful_basis: LawfulBasis
    reason: Reason
    expires_at: UtcDateTime
    write_visibility: WriteVisibility = "partners"


class GrantPatch(InputModel):
    scopes: Scopes | None = None
    expires_at: UtcDateTime | None = None
    reason: Reason | None = None
    write_visibility: WriteVisibility | None = None


class GrantOut(FamilyRecordOut):
    partner_oid: str
    display_name: str
    organisation: str
    agency: str
    scopes: list[str]
    lawful_basis: str
    reason: str
    expires_at: str
    write_visibility: str = "partners"
    status: Literal["active", "expired", "revoked"]
    granted_by: Actor
    granted_at: str
    revoked_by: Actor | None = None
    revoked_at: str | None = None


class AccessWorker(ApiModel):
    id: str
    name: str


class AccessTeam(ApiModel):
    id: str


class AccessPartner(ApiModel):
    """A partner with an active grant. Family members see the organisation and agency; staff
    also see the person and the grant."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    organisation: str
    agency: str
    scopes: list[str]
    expires_at: str
    id: str | None = None
    display_name: str | None = None
    partner_oid: str | None = None


class AccessSignIn(ApiModel):
    member_id: str
    member_name: str


class AccessOut(ApiModel):
    """Who can see this family's story now."""

    workers: list[AccessWorker]
    teams: list[AccessTeam]
    partners: list[AccessPartner]
    family_sign_ins: list[AccessSignIn]
