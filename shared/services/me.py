"""Who the caller is, what roles and teams they hold and which families they may see."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.directory import Directory
from shared.identity import Principal
from shared.models import Me
from shared.storage_layout import RECORDS

if TYPE_CHECKING:
    from azure.cosmos import DatabaseProxy


def describe_caller(principal: Principal, database: DatabaseProxy) -> Me:
    profile = Directory(database).profile_of(principal) or {}
    team_ids = list(profile.get("teamIds", [])) if principal.kind == "staff" else []
    return Me(
        id=principal.object_id,
        name=str(profile.get("displayName") or principal.name),
        kind=principal.kind,
        roles=sorted(principal.roles),
        team_ids=team_ids,
        family_ids=_family_ids(principal, team_ids, profile, database),
    )


def _family_ids(
    principal: Principal, team_ids: list[str], profile: dict[str, Any], database: DatabaseProxy
) -> list[str]:
    if principal.kind == "family":
        return sorted(profile.get("familyIds", []))
    clauses: list[str] = []
    parameters: list[dict[str, Any]] = [{"name": "@oid", "value": principal.object_id}]
    if principal.has_role("HeadOfService"):
        clauses.append("true")
    if principal.has_role("SocialWorker", "TeamManager"):
        clauses.append("ARRAY_CONTAINS(c.workerIds, @oid)")
    if principal.has_role("TeamManager") and team_ids:
        clauses.append("ARRAY_CONTAINS(@teams, c.teamId)")
        parameters.append({"name": "@teams", "value": team_ids})
    if not clauses:
        return []
    # The clauses are fixed strings; every value travels as a parameter.
    condition = " OR ".join(clauses)
    query = (
        f"SELECT VALUE c.id FROM c WHERE c.type = 'family' AND c.deleted = false AND ({condition})"  # noqa: S608
    )
    container = database.get_container_client(RECORDS.name)
    rows = container.query_items(query, parameters=parameters, enable_cross_partition_query=True)
    return sorted(str(row) for row in rows)
