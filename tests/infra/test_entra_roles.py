"""The staff API registration's app roles, declared once in ``infra/entra``, are the roles the
code knows, and the deploy guide applies that file."""

from __future__ import annotations

import json
import uuid

from shared.grants import PARTNER_ROLE
from shared.identity import STAFF_ROLES, WORKFORCE_ROLES
from tests.infra.bicep import INFRA, REPO

ROLES_FILE = INFRA / "entra" / "staff-api-roles.json"


def declared() -> list[dict[str, object]]:
    roles: list[dict[str, object]] = json.loads(ROLES_FILE.read_text())
    return roles


def test_the_registration_declares_exactly_the_roles_the_code_knows() -> None:
    values = [str(role["value"]) for role in declared()]
    assert sorted(values) == sorted(WORKFORCE_ROLES)
    assert PARTNER_ROLE in values
    assert set(values) - {PARTNER_ROLE} == STAFF_ROLES


def test_each_role_is_a_users_enabled_role_with_an_id_of_its_own() -> None:
    roles = declared()
    ids = [str(role["id"]) for role in roles]
    assert len(set(ids)) == len(ids)
    for role in roles:
        assert str(uuid.UUID(str(role["id"]))) == role["id"]
        assert role["allowedMemberTypes"] == ["User"]
        assert role["isEnabled"] is True
        assert role["displayName"]
        assert role["description"]


def test_the_deploy_guide_applies_the_roles_file_and_sets_up_partners() -> None:
    guide = (REPO / "docs" / "deploy.md").read_text()
    assert "--app-roles @infra/entra/staff-api-roles.json" in guide
    assert "`Partner` role" in guide
