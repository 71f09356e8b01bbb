"""Answers that carry case data or SAS links are never stored by a cache (a shared device's
browser, a proxy): ``Cache-Control: no-store`` on every answer to a signed-in caller, problems
included. The OpenAPI document, the same for everyone, may be cached."""

from __future__ import annotations

import pytest

from local.emulators import Emulators
from tests.functional.api import Response
from tests.functional.world import World

NO_STORE = "no-store"


def answers(world: World) -> dict[str, Response]:
    api, family = world.api, world.family
    manager, member = world.token("team_manager"), world.token("family_member")
    note = world.records["note_family"]
    read = api.get(f"/families/{family}/notes/{note}", manager)
    return {
        "me": api.get("/me", manager),
        "a family": api.get(f"/families/{family}", manager),
        "a list": api.get(f"/families/{family}/notes", member),
        "a note": read,
        "not modified": api.get(
            f"/families/{family}/notes/{note}",
            manager,
            headers={"If-None-Match": str(read.header("ETag"))},
        ),
        "sync": api.get("/sync", member),
        "export": api.get(f"/families/{family}/export", manager),
        "audit": api.get(f"/families/{family}/audit", manager),
        "an upload slot (a SAS link)": api.post(
            f"/families/{family}/media",
            manager,
            {"kind": "photo", "contentType": "image/jpeg", "sizeBytes": 1000},
        ),
        "a create": api.post(f"/families/{family}/notes", manager, {"body": "Seen at school"}),
        "a 404": api.get(f"/families/{world.other_family}/notes/{note}", member),
        "a 422": api.post(f"/families/{family}/notes", manager, {"nobody": 1}),
        "a 401": api.get("/me", "not-a-token"),
        "health": api.get("/health"),
        "readiness": api.get("/health/ready"),
    }


@pytest.fixture(scope="module")
def answered(world: World, emulators: Emulators) -> dict[str, Response]:
    return answers(world)


@pytest.mark.parametrize(
    "name",
    [
        "me",
        "a family",
        "a list",
        "a note",
        "not modified",
        "sync",
        "export",
        "audit",
        "an upload slot (a SAS link)",
        "a create",
        "a 404",
        "a 422",
        "a 401",
        "health",
        "readiness",
    ],
)
def test_an_answer_with_case_data_or_about_a_caller_is_never_stored(
    answered: dict[str, Response], name: str
) -> None:
    answer = answered[name]
    assert answer.status < 500, answer.body
    assert answer.header("Cache-Control") == NO_STORE


def test_the_openapi_document_may_be_cached(world: World) -> None:
    document = world.api.get("/openapi.json")
    assert document.status == 200
    assert document.header("Cache-Control") == "public, max-age=3600"
