"""The real app through the local host, over HTTP, against the emulators."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.integration.conftest import HostFactory, RunningHost
from tests.tokens import bearer, staff_token


@pytest.fixture(scope="module")
def api(host_factory: HostFactory) -> RunningHost:
    return host_factory()


def test_health_is_ok_with_both_dependencies(api: RunningHost) -> None:
    response = httpx.get(f"{api.url}/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"cosmos": "ok", "storage": "ok"}}


def test_me_answers_the_caller(api: RunningHost) -> None:
    oid = str(uuid.uuid4())
    response = httpx.get(
        f"{api.url}/api/v1/me", headers=bearer(staff_token("SocialWorker", oid=oid))
    )
    assert response.status_code == 200
    assert response.json()["id"] == oid
    assert response.json()["roles"] == ["SocialWorker"]


def test_me_without_a_token_is_401_problem(api: RunningHost) -> None:
    response = httpx.get(f"{api.url}/api/v1/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"].startswith("application/problem+json")


def test_openapi_document_is_served(api: RunningHost) -> None:
    response = httpx.get(f"{api.url}/api/v1/openapi.json")
    assert response.status_code == 200
    assert "/me" in response.json()["paths"]


def test_the_staff_directory_is_served_at_staff_and_nothing_under_admin(api: RunningHost) -> None:
    admin = bearer(staff_token("Admin", oid=str(uuid.uuid4())))
    listed = httpx.get(f"{api.url}/api/v1/staff", headers=admin)
    gone = httpx.get(f"{api.url}/api/v1/admin/staff", headers=admin)
    assert listed.status_code == 200
    assert gone.status_code == 404
    assert gone.headers["content-type"].startswith("application/problem+json")
    assert "location" not in gone.headers
