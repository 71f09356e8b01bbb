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
    "413": "Body over 1 MiB",
    "415": "Body is not application/json",
    "422": "Validation failed",
    "503": "A dependency is unavailable",
}


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

    paths: dict[str, dict[str, Any]] = {}
    for route, method, spec in sorted(operations, key=lambda item: (item[0], item[1])):
        path = "/" + ROUTE_PARAMETER.sub(r"{\1}", route)
        operation = _operation(route, method, spec, refs)
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
        if isinstance(spec.response, type) and issubclass(spec.response, pydantic.BaseModel):
            found[(spec.response, "serialization")] = None
    return list(found)


def _operation(route: str, method: str, spec: EndpointSpec, refs: Any) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": spec.name,
        "summary": spec.summary,
        "tags": list(spec.tags),
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in ROUTE_PARAMETER.findall(route)
        ],
        "responses": {},
    }
    if spec.auth:
        operation["security"] = [{"bearer": []}]
    if spec.body is not None and method.upper() in {"POST", "PUT", "PATCH"}:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(spec.body, "validation")]}},
        }
    success: dict[str, Any] = {"description": "Success"}
    if isinstance(spec.response, type) and issubclass(spec.response, pydantic.BaseModel):
        success["content"] = {
            "application/json": {"schema": refs[(spec.response, "serialization")]}
        }
    else:
        success["content"] = {"application/json": {"schema": {"type": "object"}}}
    operation["responses"][str(spec.status)] = success
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for status in _error_statuses(route, method, spec):
        operation["responses"][status] = {
            "description": ERROR_RESPONSES[status],
            "content": problem,
        }
    return operation


def _error_statuses(route: str, method: str, spec: EndpointSpec) -> list[str]:
    statuses = ["503"]
    if spec.auth:
        statuses += ["401", "403"]
    if ROUTE_PARAMETER.search(route):
        statuses.append("404")
    if spec.body is not None and method.upper() in {"POST", "PUT", "PATCH"}:
        statuses += ["400", "413", "415", "422"]
    return sorted(statuses)
