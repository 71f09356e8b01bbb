"""Who the caller is, what roles and teams they hold and which families they may see."""

from __future__ import annotations

from shared.access import Caller
from shared.directory import profile_id
from shared.models import Me
from shared.ports.runtime import Runtime
from shared.services.families import visible_family_ids


def describe_caller(runtime: Runtime, caller: Caller) -> Me:
    profile = runtime.directory.read(profile_id(caller.principal)) or {}
    return Me(
        id=caller.id,
        name=str(profile.get("displayName") or caller.principal.name),
        kind=caller.principal.kind,
        roles=sorted(caller.principal.roles),
        team_ids=sorted(caller.team_ids),
        family_ids=visible_family_ids(runtime, caller),
    )
