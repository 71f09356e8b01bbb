from __future__ import annotations

from typing import Any

from functions import system
from functions.http import ENDPOINTS
from tests.functional.calls import call


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def test_openapi_lists_every_endpoint_with_resolvable_schemas() -> None:
    status, document, _ = call(system.system_openapi, path="/api/v1/openapi.json")
    assert status == 200
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": "/api/v1"}]
    operations = {(path, method) for path, item in document["paths"].items() for method in item}
    expected = {
        ("/" + spec.route, method.lower()) for spec in ENDPOINTS.values() for method in spec.methods
    }
    assert operations == expected
    for ref in _refs(document):
        assert _resolve(document, ref) is not None
    me = document["paths"]["/me"]["get"]
    assert me["security"] == [{"bearer": []}]
    assert "401" in me["responses"]
    schema = _resolve(
        document, me["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    )
    assert set(schema["properties"]) == {"id", "name", "kind", "roles", "teamIds", "familyIds"}
    assert "security" not in document["paths"]["/health"]["get"]
