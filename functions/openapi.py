"""OpenAPI 3.1, generated from the registered functions' routes and their declared models."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import pydantic
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from functions.http import ENDPOINTS, EndpointSpec

ROUTE_PARAMETER = re.compile(r"\{\*?([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\??\}")
HOST_JSON = Path(__file__).resolve().parent.parent / "host.json"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "type"],
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "type": {"type": "string"},
                },
            },
        },
    },
}

ERROR_RESPONSES = {
    "400": "Malformed request",
    "401": "Missing or invalid bearer token",
    "403": "The caller's role may not do this",
    "404": "No such record, or not visible to the caller",
    "409": "The id exists with different content, or the change conflicts",
    "412": "If-Match does not match the stored version",
    "413": "Body over 1 MiB",
    "415": "Body is not application/json",
    "422": "Validation failed",
    "503": "A dependency is unavailable",
}

PAGE_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
    },
    {"name": "next", "in": "query", "required": False, "schema": {"type": "string"}},
]


def route_prefix() -> str:
    host = json.loads(HOST_JSON.read_text())
    prefix = host.get("extensions", {}).get("http", {}).get("routePrefix", "api")
    return "/" + str(prefix).strip("/") if prefix else ""


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    import function_app  # noqa: F401 - registers every blueprint's endpoints

    operations = [
        (spec.route, method, spec) for spec in ENDPOINTS.values() for method in spec.methods
    ]

    models = _models(operations)
    refs, definitions = models_json_schema(
        models, ref_template="#/components/schemas/{model}", by_alias=True
    )
    schemas: dict[str, Any] = dict(definitions.get("$defs", {}))
    schemas["Problem"] = PROBLEM_SCHEMA

    created = {
        spec.route: refs[(spec.response, "serialization")]
        for _, method, spec in operations
        if method.upper() == "POST" and _model(spec.response) is not None
    }
    paths: dict[str, dict[str, Any]] = {}
    for route, method, spec in sorted(operations, key=lambda item: (item[0], item[1])):
        path = "/" + ROUTE_PARAMETER.sub(r"{\1}", route)
        operation = _operation(route, method, spec, refs, created.get(route))
        if sum(1 for _, _, other in operations if other.name == spec.name) > 1:
            operation["operationId"] = f"{spec.name}_{method.lower()}"
        paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "FamilyStory API",
            "version": "1.0.0",
            "description": "Case records, offline sync and media for children's social care.",
        },
        "servers": [{"url": route_prefix()}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


def _models(
    operations: list[tuple[str, str, EndpointSpec]],
) -> list[tuple[type[pydantic.BaseModel], JsonSchemaMode]]:
    found: dict[tuple[type[pydantic.BaseModel], JsonSchemaMode], None] = {}
    for _, _, spec in operations:
        if spec.body is not None:
            found[(spec.body, "validation")] = None
        if _model(spec.response) is not None:
            found[(spec.response, "serialization")] = None
    return list(found)


def _model(response: Any) -> type[pydantic.BaseModel] | None:
    if isinstance(response, type) and issubclass(response, pydantic.BaseModel):
        return response
    return None


def _is_list(method: str, spec: EndpointSpec) -> bool:
    return method.upper() == "GET" and spec.name.endswith("_list")


def _operation(
    route: str, method: str, spec: EndpointSpec, refs: Any, item: dict[str, Any] | None
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": spec.name,
        "summary": spec.summary,
        "tags": list(spec.tags),
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in ROUTE_PARAMETER.findall(route)
        ]
        + (PAGE_PARAMETERS if _is_list(method, spec) else []),
        "responses": _success_responses(route, method, spec, refs, item),
    }
    if spec.auth:
        operation["security"] = [{"bearer": []}]
    if spec.body is not None and method.upper() in {"POST", "PUT", "PATCH"}:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(spec.body, "validation")]}},
        }
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for status in _error_statuses(route, method, spec):
        operation["responses"][status] = {
            "description": ERROR_RESPONSES[status],
            "content": problem,
        }
    return operation


def _success_responses(
    route: str, method: str, spec: EndpointSpec, refs: Any, item: dict[str, Any] | None
) -> dict[str, Any]:
    """The success statuses: no content for 204 and 304, a retried create's 200, list pages."""
    if spec.status == 204:
        return {"204": {"description": "No content"}}
    schema: dict[str, Any] = {"type": "object"}
    if _model(spec.response) is not None:
        schema = refs[(spec.response, "serialization")]
    elif _is_list(method, spec):
        schema = {
            "type": "object",
            "required": ["items", "next"],
            "properties": {
                "items": {"type": "array", "items": item or {"type": "object"}},
                "next": {"type": ["string", "null"]},
            },
        }
    success = {"description": "Success", "content": {"application/json": {"schema": schema}}}
    responses: dict[str, Any] = {str(spec.status): success}
    if spec.status == 201:
        responses["200"] = {**success, "description": "A safe retry: the stored record"}
    if method.upper() == "GET" and _model(spec.response) is not None and route.endswith("}"):
        responses["304"] = {"description": "Not modified (If-None-Match)"}
    return responses


def _error_statuses(route: str, method: str, spec: EndpointSpec) -> list[str]:
    statuses = ["503"]
    if spec.auth:
        statuses += ["400", "401", "403"]
    if ROUTE_PARAMETER.search(route):
        statuses.append("404")
    if method.upper() in {"PATCH", "DELETE"}:
        statuses.append("412")
    if spec.body is not None and method.upper() in {"POST", "PUT", "PATCH"}:
        statuses += ["400", "409", "413", "415", "422"]
    return sorted(set(statuses))
