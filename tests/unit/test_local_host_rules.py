"""Route templates, blob paths and schedules as the local host reads them from the decorators."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from local.host.app import resolve_setting_expressions
from local.host.blobs import compile_blob_path
from local.host.http import compile_route, route_prefix
from local.host.timers import next_occurrence


def test_route_parameters_are_captured() -> None:
    pattern, _ = compile_route("families/{familyId}/notes/{noteId}")
    matched = pattern.match("/families/f-1/notes/n-2")
    assert matched is not None
    assert matched.groupdict() == {"familyId": "f-1", "noteId": "n-2"}
    assert pattern.match("/families/f-1/notes") is None
    assert pattern.match("/families/f-1/notes/n-2/extra") is None


def test_literal_segments_match_case_insensitively_with_optional_trailing_slash() -> None:
    pattern, _ = compile_route("openapi.json")
    assert pattern.match("/OpenAPI.json/")
    assert pattern.match("/openapixjson") is None


def test_constraints_and_optional_and_catch_all() -> None:
    guid, _ = compile_route("items/{id:guid}")
    assert guid.match("/items/0f8fad5b-d9cb-469f-a165-70867728950e")
    assert guid.match("/items/not-a-guid") is None
    optional, _ = compile_route("sync/{token?}")
    assert optional.match("/sync")
    assert optional.match("/sync/abc")
    rest, _ = compile_route("files/{*path}")
    matched = rest.match("/files/a/b/c.txt")
    assert matched is not None
    assert matched.group("path") == "a/b/c.txt"


def test_literal_routes_take_precedence_over_parameters() -> None:
    _, literal = compile_route("invitations/redeem")
    _, parameter = compile_route("invitations/{code}")
    assert literal < parameter


def test_setting_expressions_are_resolved_and_missing_ones_fail() -> None:
    assert resolve_setting_expressions("%SCHEDULE%", {"SCHEDULE": "0 */5 * * * *"}) == (
        "0 */5 * * * *"
    )
    with pytest.raises(KeyError, match="MISSING"):
        resolve_setting_expressions("%MISSING%", {})


def test_setting_expressions_resolve_as_the_registration_rules_resolve_them() -> None:
    settings = {"REMINDERS_SCHEDULE": "0 */5 * * * *", "UPLOAD-QUEUE": "uploads"}
    assert resolve_setting_expressions("%reminders_schedule%", settings) == "0 */5 * * * *"
    assert resolve_setting_expressions("%Upload-Queue%-poison", settings) == "uploads-poison"


def test_ncrontab_schedules_put_seconds_first() -> None:
    start = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
    assert next_occurrence("*/10 * * * * *", start) == datetime(2026, 11, 26, 12, 0, 10, tzinfo=UTC)
    assert next_occurrence("0 */5 * * * *", start) == datetime(2026, 11, 26, 12, 5, 0, tzinfo=UTC)
    assert next_occurrence("30 0 9 * * 1", start) == datetime(2026, 11, 30, 9, 0, 30, tzinfo=UTC)


def test_blob_paths_bind_their_parameters() -> None:
    container, pattern = compile_blob_path("uploads/{familyId}/{mediaId}")
    assert container == "uploads"
    matched = pattern.match("f-1/m-2")
    assert matched is not None
    assert matched.groupdict() == {"familyId": "f-1", "mediaId": "m-2"}
    assert pattern.match("f-1") is None
    assert compile_blob_path("uploads/{name}")[1].match("a/b.jpg")


def test_route_prefix_comes_from_host_json() -> None:
    assert route_prefix() == "/api/v1"
