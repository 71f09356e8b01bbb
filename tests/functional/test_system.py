from __future__ import annotations

import uuid
from typing import Any

import pytest

from functions import system
from local.emulators import Emulators, free_port
from shared.bootstrap import get_runtime, reset_runtime
from shared.storage_layout import DIRECTORY, RECORDS
from tests.functional.calls import call
from tests.tokens import bearer, family_token, staff_token


def test_health_checks_cosmos_and_storage_for_real(stack: Emulators) -> None:
    status, payload, _ = call(system.system_health, path="/api/v1/health")
    assert status == 200
    assert payload == {"status": "ok", "checks": {"cosmos": "ok", "storage": "ok"}}


def test_health_names_the_failing_dependency(
    stack: Emulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COSMOS__accountEndpoint", f"https://localhost:{free_port()}")
    reset_runtime()
    status, payload, response = call(system.system_health, path="/api/v1/health")
    assert status == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"]
    assert payload["checks"] == {"cosmos": "unavailable", "storage": "ok"}
    assert "cosmos" in payload["detail"]


def test_ready_reads_every_container_the_app_uses(stack: Emulators) -> None:
    status, payload, response = call(system.system_ready, path="/api/v1/health/ready")
    assert status == 200
    assert payload == {"status": "ok", "checks": {"cosmos": "ok", "storage": "ok"}}
    assert response.headers["Cache-Control"] == "no-store"


def test_ready_finds_a_missing_container_that_health_does_not(
    stack: Emulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database without its containers: the account answers (``/health`` is ok) but the app
    could not serve a request (``/health/ready`` is 503, naming Cosmos DB and nothing more)."""
    from shared.adapters.cosmos import build_cosmos_client

    empty = f"empty-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("COSMOS_DATABASE", empty)
    reset_runtime()
    build_cosmos_client(get_runtime().settings).create_database(empty)
    health, _, _ = call(system.system_health, path="/api/v1/health")
    status, payload, response = call(system.system_ready, path="/api/v1/health/ready")
    assert health == 200
    assert status == 503
    assert response.headers["Retry-After"]
    assert payload["checks"] == {"cosmos": "unavailable", "storage": "ok"}
    assert set(payload) == {"type", "title", "status", "detail", "checks"}


def test_health_asks_the_dependencies_once_however_often_it_is_called(
    stack: Emulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEALTH_CACHE_SECONDS", "60")
    reset_runtime()
    asked: list[str] = []
    runtime = get_runtime()
    real = runtime.health_probes
    monkeypatch.setattr(
        type(runtime),
        "health_probes",
        property(lambda self: {n: _counted(n, p, asked) for n, p in real.items()}),
    )
    for _ in range(25):
        status, _, _ = call(system.system_health, path="/api/v1/health")
        assert status == 200
    assert sorted(asked) == ["cosmos", "storage"]


def _counted(name: str, probe: Any, asked: list[str]) -> Any:
    def counted(timeout: float) -> object:
        asked.append(name)
        return probe(timeout)

    return counted


def test_me_describes_staff_with_teams_and_allocated_families(stack: Emulators) -> None:
    oid, team, family = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    runtime = get_runtime()
    tid = runtime.settings.staff_tenant_id
    runtime.database.get_container_client(DIRECTORY.name).create_item(
        {
            "id": f"staff:{tid}:{oid}",
            "type": "staff",
            "oid": oid,
            "displayName": "Sam Patel",
            "teamIds": [team],
        }
    )
    runtime.database.get_container_client(RECORDS.name).create_item(
        {
            "id": family,
            "familyId": family,
            "type": "family",
            "deleted": False,
            "teamId": team,
            "workerIds": [oid],
        }
    )
    token = staff_token("SocialWorker", oid=oid, name="Token Name")
    status, payload, _ = call(system.me_get, path="/api/v1/me", headers=bearer(token))
    assert status == 200
    assert payload == {
        "id": oid,
        "name": "Sam Patel",
        "kind": "staff",
        "roles": ["SocialWorker"],
        "teamIds": [team],
        "familyIds": [family],
    }


def test_me_for_a_family_member_lists_linked_families_only(stack: Emulators) -> None:
    oid, family = str(uuid.uuid4()), str(uuid.uuid4())
    runtime = get_runtime()
    tid = runtime.settings.family_tenant_id
    runtime.database.get_container_client(DIRECTORY.name).create_item(
        {"id": f"familylink:{tid}:{oid}", "type": "familylink", "memberships": {family: oid}}
    )
    runtime.database.get_container_client(RECORDS.name).create_item(
        {"id": family, "familyId": family, "type": "family", "deleted": False, "teamId": "t"}
    )
    status, payload, _ = call(
        system.me_get, path="/api/v1/me", headers=bearer(family_token(oid=oid, name="Alex"))
    )
    assert status == 200
    assert payload == {
        "id": oid,
        "name": "Alex",
        "kind": "family",
        "roles": [],
        "teamIds": [],
        "familyIds": [family],
    }


def test_me_for_a_new_user_with_no_records_is_empty_not_an_error(stack: Emulators) -> None:
    status, payload, _ = call(
        system.me_get, path="/api/v1/me", headers=bearer(staff_token("Admin"))
    )
    assert status == 200
    assert payload["familyIds"] == []
    assert payload["roles"] == ["Admin"]
