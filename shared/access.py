"""Who may see and do what. Every service calls this module, for every object id.

- A social worker sees the families allocated to them (``workerIds``); a team manager, the
  families of their teams (and any allocated to them); the head of service, every family.
- ``Admin`` manages staff and teams and reads no case content.
- A family member sees only their own family, and only records whose ``visibility`` is
  ``family``; records marked ``partners`` or ``professionals`` do not exist for them.
- A partner agency's professional (``Partner``) sees only the families they hold an active grant
  for (``shared.grants``), and there only the family's name and team and the records of the
  kinds the grant covers whose ``visibility`` is ``family`` or ``partners`` (visits, which have no
  visibility, when it covers visits), and the comments on those. Every other record, list and
  endpoint of the family answers them as it answers an outsider: 404.
- Visibility runs ``professionals`` (staff only) < ``partners`` (staff and the family's granted
  partners) < ``family`` (everyone who sees the family). Staff choose it; a comment never reaches
  further than its target, and a partner's comment not further than their grant lets them write.
- A record outside the caller's reach is a 404, never a 403; a 403 means the caller can see the
  record but their role may not do this action. A field the caller's role may not write is such
  an action: a 403 naming each field, never a 422 and never silently dropped.
- A manager of a family (``manages``) is the head of service, or a team manager of the family's
  team. Only a manager sets what decides how long a family is kept (retention, legal hold) and
  who is allocated to it. A team manager allocated to a family of another team acts there as a
  worker.
- Only the head of service crosses teams (``crosses_teams``): a team manager allocates staff of
  the family's team and moves a family only between teams they manage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from shared.errors import ForbiddenError, NotFoundError
from shared.grants import SCOPE_OF_TYPE, Grant, scope_of
from shared.identity import Principal

CASE_ROLES = ("SocialWorker", "TeamManager", "HeadOfService")
MANAGERS_ONLY = "Only team managers and the head of service may set these fields."
MOVE_REFUSED = "Only the head of service may move a family to a team you do not manage."
OTHER_TEAM_REFUSED = "Only the head of service may allocate staff of another team."
ALWAYS_VISIBLE_TO_FAMILY = frozenset({"family", "member", "visit"})
VISIBILITIES = ("professionals", "partners", "family")  # from the narrowest reach
PARTNER_VISIBILITIES = ("partners", "family")
ALWAYS_VISIBLE_TO_PARTNERS = frozenset({"family", "visit"})  # the family itself; visits by scope
Level = Literal["staff", "family", "partner"]


@dataclass(frozen=True)
class Caller:
    principal: Principal
    team_ids: frozenset[str] = frozenset()
    memberships: Mapping[str, str] = field(default_factory=dict)
    grants: Mapping[str, tuple[Grant, ...]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.principal.object_id

    @property
    def is_family(self) -> bool:
        return self.principal.kind == "family"

    @property
    def is_partner(self) -> bool:
        return self.principal.kind == "partner"

    @property
    def actor(self) -> dict[str, str]:
        return {"id": self.id, "name": self.principal.name, "kind": self.principal.kind}

    def audit_identity(self) -> dict[str, Any]:
        return {
            "tid": self.principal.tenant_id,
            "oid": self.id,
            "kind": self.principal.kind,
            "roles": sorted(self.principal.roles),
        }


@dataclass(frozen=True)
class FamilyAccess:
    caller: Caller
    family: Mapping[str, Any]
    level: Level
    grants: tuple[Grant, ...] = ()

    @property
    def family_id(self) -> str:
        return str(self.family["id"])

    @property
    def member_id(self) -> str | None:
        return self.caller.memberships.get(self.family_id)

    @property
    def is_staff(self) -> bool:
        return self.level == "staff"

    @property
    def is_family(self) -> bool:
        return self.level == "family"

    @property
    def is_partner(self) -> bool:
        return self.level == "partner"

    @property
    def scopes(self) -> frozenset[str]:
        """What a partner's grants for this family cover, together."""
        return frozenset().union(*(grant.scopes for grant in self.grants))

    @property
    def grant_ids(self) -> frozenset[str]:
        return frozenset(grant.id for grant in self.grants)

    @property
    def writes_visibility(self) -> str:
        """The visibility of what this partner writes: ``family`` only when every one of their
        grants for the family says so."""
        shown = {grant.write_visibility for grant in self.grants}
        return "family" if shown == {"family"} else "partners"

    @property
    def who(self) -> str:
        """The caller's kind, as a refusal names it."""
        return {"staff": "Staff", "family": "Family members", "partner": "Partner agencies"}[
            self.level
        ]


def staff_reach(caller: Caller, family: Mapping[str, Any]) -> bool:
    principal = caller.principal
    if principal.kind != "staff":
        return False
    if principal.has_role("HeadOfService"):
        return True
    allocated = caller.id in (family.get("workerIds") or [])
    if principal.has_role("SocialWorker") and allocated:
        return True
    return principal.has_role("TeamManager") and (
        allocated or family.get("teamId") in caller.team_ids
    )


def manages(caller: Caller, family: Mapping[str, Any]) -> bool:
    """Manager powers over a family: the head of service, or a team manager of its team."""
    principal = caller.principal
    if principal.kind != "staff":
        return False
    if principal.has_role("HeadOfService"):
        return True
    return principal.has_role("TeamManager") and family.get("teamId") in caller.team_ids


def crosses_teams(caller: Caller) -> bool:
    """Whether the caller allocates staff of any team and moves families between any teams."""
    return caller.principal.kind == "staff" and caller.principal.has_role("HeadOfService")


def require_team_move(caller: Caller, team_id: str) -> None:
    """A family moves to another team only by the head of service or that team's manager."""
    if not crosses_teams(caller) and team_id not in caller.team_ids:
        raise ForbiddenError(
            MOVE_REFUSED, errors=[{"loc": ["body", "teamId"], "type": "other_team"}]
        )


def require_team_staff(
    caller: Caller, team_id: str, staff_teams: Mapping[int, frozenset[str]]
) -> None:
    """Workers named (by their index in ``workerIds``) belong to the family's team, unless the
    caller crosses teams."""
    if crosses_teams(caller):
        return
    outside = sorted(index for index, teams in staff_teams.items() if team_id not in teams)
    if outside:
        raise ForbiddenError(
            OTHER_TEAM_REFUSED,
            errors=[
                {"loc": ["body", "workerIds", index], "type": "other_team"} for index in outside
            ],
        )


def family_access(
    caller: Caller, family: Mapping[str, Any] | None, record_type: str | None = None
) -> FamilyAccess:
    """The caller's access to a family, or NotFoundError: existence is not revealed.

    ``record_type`` is what the caller is after there. A partner reaches the family only for
    the family itself, comments, and the kinds their grants cover; for anything else (members,
    notifications, the audit trail, the export, grants, and whatever kind is added later) the
    family does not exist for them. None: the records are filtered one by one (sync)."""
    if family is None or family.get("deleted"):
        raise NotFoundError("No such family.")
    if staff_reach(caller, family):
        return FamilyAccess(caller, family, "staff")
    family_id = str(family["id"])
    if caller.is_family and family_id in caller.memberships:
        return FamilyAccess(caller, family, "family")
    grants = caller.grants.get(family_id) if caller.is_partner else None
    if grants:
        access = FamilyAccess(caller, family, "partner", tuple(grants))
        if partner_reaches(access.scopes, record_type):
            return access
    raise NotFoundError("No such family.")


def partner_reaches(scopes: frozenset[str], record_type: str | None) -> bool:
    if record_type in (None, "family", "comment"):
        return True
    scope = SCOPE_OF_TYPE.get(str(record_type))
    return scope is not None and scope in scopes


def can_see(access: FamilyAccess, record: Mapping[str, Any]) -> bool:
    if record.get("deleted") or record.get("familyId") != access.family_id:
        return False
    if access.is_staff:
        return True
    if access.is_partner:
        return partners_may_see(access.scopes, record)
    return family_may_see(record)


def family_may_see(record: Mapping[str, Any]) -> bool:
    """Whether the family's members see this record of their family (deletion aside)."""
    return record.get("type") in ALWAYS_VISIBLE_TO_FAMILY or record.get("visibility") == "family"


def partners_may_see(scopes: frozenset[str], record: Mapping[str, Any]) -> bool:
    """Whether a partner whose grants cover ``scopes`` sees this record (deletion aside)."""
    if record.get("type") == "family":
        return True
    if scope_of(record) not in scopes:
        return False
    return (
        record.get("type") in ALWAYS_VISIBLE_TO_PARTNERS
        or record.get("visibility") in PARTNER_VISIBILITIES
    )


def narrower(first: str, second: str) -> str:
    """Of two visibilities, the one that reaches fewer people."""
    rank = {name: index for index, name in enumerate(VISIBILITIES)}
    return first if rank.get(first, 0) <= rank.get(second, 0) else second


def visible(access: FamilyAccess, record: Mapping[str, Any] | None, what: str) -> Mapping[str, Any]:
    if record is None or not can_see(access, record):
        raise NotFoundError(f"No such {what}.")
    return record


def require_staff(access: FamilyAccess, action: str) -> None:
    if not access.is_staff:
        raise ForbiddenError(f"{access.who} may not {action}.")


def require_author(access: FamilyAccess, record: Mapping[str, Any], action: str) -> None:
    author = record.get("createdBy") or {}
    if author.get("id") != access.caller.id or author.get("kind") != access.caller.principal.kind:
        raise ForbiddenError(f"Only the author may {action}.")


def reject_fields(fields: set[str], forbidden: set[str], who: str) -> None:
    """Fields ``who`` may not write: a 403 naming each one, never silently dropped."""
    refuse_fields(fields & forbidden, f"{who} may not set these fields.")


def require_manager_for(
    caller: Caller, family: Mapping[str, Any], fields: set[str], restricted: set[str]
) -> None:
    """Fields only a manager of the family may write: a 403 naming each for anyone else."""
    if not manages(caller, family):
        refuse_fields(fields & restricted, MANAGERS_ONLY)


def refuse_fields(present: set[str], detail: str) -> None:
    if present:
        raise ForbiddenError(
            detail,
            errors=[{"loc": ["body", name], "type": "forbidden_field"} for name in sorted(present)],
        )


def require_role(caller: Caller, *roles: str) -> None:
    if not caller.principal.has_role(*roles):
        raise ForbiddenError("Your role may not do this.")
