"""Partner agencies' grants: what a grant is, and which records it opens.

A partner (a school's safeguarding lead, a health visitor, a housing officer) is a guest of the
borough's workforce tenant with the app role ``Partner``. They see a family only through a
grant a social worker made: a family, a purpose (``lawfulBasis``, ``reason``), an end
(``expiresAt``) and the kinds of record it covers (``scopes``). A grant is a document of the
family's own partition (type ``partnerGrant``), so it travels with the family: in its subject
access export, and out with its disposal.

A grant is *active* until its ``expiresAt`` or its revocation, whichever comes first; its status
is worked out against the clock whenever it is read, never stored, so no grant outlives its
time by being cached. A partner may hold several grants for one family (two purposes, say):
what they may do there is what any active one allows.

What a partner writes (comments, agenda items) is ``visibility: "partners"``, unless every one of
their active grants for the family says ``writeVisibility: "family"``: the social worker who
grants decides whether the family sees what this partner adds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

GRANT_TYPE = "partnerGrant"
PARTNER_ROLE = "Partner"
SCOPES = ("visits", "agendas", "plans", "notes", "media")
SCOPE_OF_TYPE = {
    "visit": "visits",
    "agenda": "agendas",
    "plan": "plans",
    "note": "notes",
    "media": "media",
}
AGENCIES = ("education", "health", "police", "housing", "voluntary", "other")
LAWFUL_BASES = (
    "children-act-1989-s17",
    "children-act-1989-s47",
    "children-act-2004-s11",
    "consent",
    "other",
)
WRITE_VISIBILITIES = ("partners", "family")

GrantStatus = Literal["active", "expired", "revoked"]


def parse_time(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def grant_status(document: Mapping[str, Any], now: datetime) -> GrantStatus:
    if document.get("revokedAt"):
        return "revoked"
    if parse_time(document["expiresAt"]) <= now:
        return "expired"
    return "active"


def scope_of(record: Mapping[str, Any]) -> str | None:
    """The scope that covers a record: its kind's, or for a comment its target's."""
    record_type = record.get("type")
    if record_type == "comment":
        target = record.get("targetType")
        return str(target) if target in SCOPES else None
    return SCOPE_OF_TYPE.get(str(record_type))


@dataclass(frozen=True)
class Grant:
    """An active grant, as access decisions need it."""

    id: str
    family_id: str
    scopes: frozenset[str]
    expires_at: datetime
    write_visibility: str = "partners"

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Grant:
        return cls(
            id=str(document["id"]),
            family_id=str(document["familyId"]),
            scopes=frozenset(str(s) for s in document.get("scopes") or () if s in SCOPES),
            expires_at=parse_time(document["expiresAt"]),
            write_visibility=str(document.get("writeVisibility") or "partners"),
        )


def active_grants(
    documents: Iterable[Mapping[str, Any]], tenant_id: str, object_id: str, now: datetime
) -> dict[str, tuple[Grant, ...]]:
    """The partner's active grants by family, from grant documents: each document is checked
    again here (its partner, type, revocation and expiry), whatever query found it."""
    found: dict[str, list[Grant]] = {}
    for document in documents:
        if (
            document.get("type") != GRANT_TYPE
            or document.get("partnerTid") != tenant_id
            or document.get("partnerOid") != object_id
            or document.get("deleted")
            or grant_status(document, now) != "active"
        ):
            continue
        grant = Grant.from_document(document)
        found.setdefault(grant.family_id, []).append(grant)
    return {
        family_id: tuple(sorted(grants, key=lambda g: g.id)) for family_id, grants in found.items()
    }
