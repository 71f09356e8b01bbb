"""OpenAPI 3.1, generated from the registered functions' routes and their declared models.

Every status an operation can answer is declared: its successes with their headers (``ETag`` on
single records, ``Location`` on creations), and its errors as ``application/problem+json`` of one
``Problem`` schema, with ``WWW-Authenticate`` on 401 and ``Retry-After`` on 429 and 503. Creations
link to the operations on what they created, so a client (or a stateful test) can follow them.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from functions.http import ENDPOINTS, PROBLEM_TYPE_BASE, PROBLEMS, EndpointSpec

if TYPE_CHECKING:  # pydantic is imported when the document is first built, not at a cold start
    import pydantic
    from pydantic.json_schema import JsonSchemaMode

ROUTE_PARAMETER = re.compile(r"\{\*?([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\??\}")
HOST_JSON = Path(__file__).resolve().parent.parent / "host.json"
PROBLEM_REF = "#/components/schemas/Problem"
WRITES = frozenset({"POST", "PUT", "PATCH"})
COMMENT_TARGETS = ("notes", "agendas", "plans", "media")

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {
            "type": "string",
            "description": "urn:familystory:problem:<kind>",
            "pattern": f"^{re.escape(PROBLEM_TYPE_BASE)}[a-z-]+$",
        },
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "Where validation failed and what kind of failure, never the input.",
            "items": {
                "type": "object",
                "required": ["loc", "type"],
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "type": {"type": "string"},
                },
            },
        },
        "current": {
            "type": "object",
            "description": "The stored record (409, 412), when the caller may see it.",
        },
    },
}

HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {
        "description": "The record's version, quoted: send it back in If-Match or If-None-Match.",
        "required": True,
        "schema": {"type": "string", "pattern": '^"[^"]+"$'},
    },
    "Location": {
        "description": "Where the created record is read.",
        "required": True,
        "schema": {"type": "string", "format": "uri-reference"},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    },
    "WWW-Authenticate": {
        "description": "The authentication scheme: Bearer.",
        "required": True,
        "schema": {"type": "string", "pattern": "^Bearer"},
    },
    "Content-Disposition": {
        "description": "A file name to save the export under.",
        "required": True,
        "schema": {"type": "string", "pattern": "^attachment"},
    },
}

ERROR_DESCRIPTIONS = {
    400: "The body is not JSON, or a query parameter is malformed",
    401: "Missing, expired or invalid bearer token",
    403: "The caller can see the record but their role may not do this",
    404: "No such record, or the caller may not see it",
    409: "The id exists with different content; current holds it if the caller may see it",
    410: "The sync token is older than deletions are kept: pull a full snapshot",
    412: "If-Match does not match the stored version; current holds the stored record",
    413: "Body over 1 MiB, or an upload slot over the kind's size limit",
    415: "Body is not application/json",
    422: "Well-formed JSON that fails validation (unknown fields included)",
    429: "Too many requests from this caller: wait Retry-After seconds",
    503: "A dependency is down; nothing was half-written: retry after Retry-After seconds",
}
ERROR_HEADERS = {401: "WWW-Authenticate", 429: "Retry-After", 503: "Retry-After"}

# Statuses only some endpoints answer, beyond what their route, method and body imply.
EXTRA_STATUSES: dict[str, tuple[int, ...]] = {
    "sync_pull": (410,),
    "invitations_redeem": (404,),
    "agendas_add_item": (412,),
    "notes_disputes_create": (412,),
}
# Endpoints that answer no 403: any caller with a valid token may use them.
NO_FORBIDDEN = frozenset({"me_get"})
# Deletes of what has no version, so take no If-Match and answer no 412.
UNVERSIONED = frozenset({"links_revoke"})

PAGE_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
    },
    {
        "name": "next",
        "in": "query",
        "required": False,
        "description": "The next of the previous page (opaque, sealed to the caller and list).",
        "schema": {"type": "string"},
    },
]
ID_SCHEMA: dict[str, Any] = {"type": "string", "format": "uuid"}
QUERY_PARAMETERS: dict[str, list[dict[str, Any]]] = {
    "sync_pull": [
        {
            "name": "since",
            "in": "query",
            "required": False,
            "description": "The next of the previous pull; without it, a full snapshot.",
            "schema": {"type": "string"},
        },
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 500},
        },
    ],
    "families_export": [PAGE_PARAMETERS[1]],
    "notes_list": [{"name": "visitId", "in": "query", "required": False, "schema": ID_SCHEMA}],
    "media_list": [
        {"name": name, "in": "query", "required": False, "schema": ID_SCHEMA}
        for name in ("visitId", "noteId")
    ],
}

SYNC_SCHEMAS: dict[str, Any] = {
    "SyncChange": {
        "type": "object",
        "required": ["type", "id", "familyId", "version", "deleted", "data"],
        "properties": {
            "type": {"type": "string"},
            "id": {"type": "string"},
            "familyId": {"type": "string"},
            "version": {"type": "string"},
            "deleted": {"type": "boolean"},
            "data": {"type": ["object", "null"]},
        },
    },
    "SyncPage": {
        "type": "object",
        "required": ["changes", "next", "more"],
        "properties": {
            "changes": {"type": "array", "items": {"$ref": "#/components/schemas/SyncChange"}},
            "next": {"type": "string"},
            "more": {"type": "boolean"},
        },
    },
    "SyncResults": {
        "type": "object",
        "required": ["results"],
        "properties": {
            "results": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["opId", "status"],
                    "properties": {
                        "opId": {"type": "string"},
                        "status": {"enum": ["applied", "conflict", "rejected"]},
                        "id": {"type": "string"},
                        "version": {"type": "string"},
                        "current": {"type": ["object", "null"]},
                        "conflicts": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["field"],
                                "properties": {"field": {"type": "string"}},
                            },
                        },
                        "problem": {"$ref": PROBLEM_REF},
                    },
                },
            }
        },
    },
}
RESPONSE_SCHEMAS = {
    "sync_pull": "#/components/schemas/SyncPage",
    "sync_push": "#/components/schemas/SyncResults",
}

REQUEST_EXAMPLES: dict[str, dict[str, Any]] = {
    "families_create": {
        "displayName": "The Jones family",
        "teamId": "north-east",
        "retentionClass": "child-in-need",
    },
    "members_create": {
        "displayName": "Pat Jones",
        "relationship": "mother",
        "phone": "+447700900123",
        "smsReminders": True,
    },
    "visits_create": {
        "startsAt": "2026-11-26T14:00:00Z",
        "endsAt": "2026-11-26T15:00:00Z",
        "location": "Home",
    },
    "agendas_create": {
        "title": "Thursday's visit",
        "items": [{"id": "5b0d4c3e-8f1a-4f7e-9c2d-1a2b3c4d5e6f", "text": "School mornings"}],
    },
    "agendas_add_item": {"text": "Swimming lessons"},
    "notes_create": {
        "body": "We talked about mornings before school and agreed a new routine.",
        "visibility": "family",
    },
    "notes_update": {"body": "We talked about mornings and agreed a routine to try."},
    "plans_create": {
        "title": "School attendance",
        "actions": [
            {
                "id": "0f8e7d6c-5b4a-4938-8271-6a5b4c3d2e1f",
                "text": "Call the school about breakfast club",
                "owner": "Sam Patel",
                "dueDate": "2026-12-04",
            }
        ],
    },
    "comments_create": {"body": "Thank you, that helps."},
    "media_create": {
        "kind": "photo",
        "contentType": "image/jpeg",
        "sizeBytes": 2400000,
        "fileName": "garden.jpg",
        "caption": "The new garden",
    },
    "invitations_redeem": {"code": "K7QZ3MXP2R"},
    "notes_disputes_create": {"statement": "I did not say that the flat was untidy."},
    "staff_put": {"displayName": "Sam Patel", "teamIds": ["north-east"], "phone": "+447700900321"},
    "sync_push": {
        "operations": [
            {
                "opId": "device-7:42",
                "type": "note",
                "action": "create",
                "id": "7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                "familyId": "3f2e1d0c-9b8a-4c7d-8e6f-5a4b3c2d1e0f",
                "data": {"body": "Written on the bus home."},
            }
        ]
    },
}
RESPONSE_EXAMPLES: dict[str, dict[str, Any]] = {
    "notes_create": {
        "id": "7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "familyId": "3f2e1d0c-9b8a-4c7d-8e6f-5a4b3c2d1e0f",
        "type": "note",
        "visitId": None,
        "body": "We talked about mornings before school and agreed a new routine.",
        "visibility": "family",
        "disputed": False,
        "createdAt": "2026-11-26T15:04:00Z",
        "createdBy": {
            "id": "8c2d3c5e-3d6a-4a55-9a27-1f1f3a9b0c11",
            "name": "Sam Patel",
            "kind": "staff",
        },
        "updatedAt": "2026-11-26T15:04:00Z",
        "updatedBy": {
            "id": "8c2d3c5e-3d6a-4a55-9a27-1f1f3a9b0c11",
            "name": "Sam Patel",
            "kind": "staff",
        },
        "version": "00000a1b-0000-0d00-0000-6745e3a80000",
    },
}
PROBLEM_EXAMPLES: dict[int, dict[str, Any]] = {
    422: {
        "type": PROBLEM_TYPE_BASE + "validation",
        "title": "Validation failed",
        "status": 422,
        "detail": "The request body is not valid.",
        "errors": [{"loc": ["body", "body"], "type": "missing"}],
    },
    503: {
        "type": PROBLEM_TYPE_BASE + "dependency-unavailable",
        "title": "Service unavailable",
        "status": 503,
        "detail": "Cosmos DB is unavailable; try again shortly.",
    },
}


def route_prefix() -> str:
    host = json.loads(HOST_JSON.read_text())
    prefix = host.get("extensions", {}).get("http", {}).get("routePrefix", "api")
    return "/" + str(prefix).strip("/") if prefix else ""


def path_of(route: str) -> str:
    return "/" + ROUTE_PARAMETER.sub(r"{\1}", route)


def operation_id(spec: EndpointSpec, method: str) -> str:
    return f"{spec.name}_{method.lower()}" if len(spec.methods) > 1 else spec.name


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    from pydantic.json_schema import models_json_schema

    import function_app  # noqa: F401 - registers every blueprint's endpoints

    operations = [
        (spec.route, method.upper(), spec) for spec in ENDPOINTS.values() for method in spec.methods
    ]
    models = _models(operations)
    refs, definitions = models_json_schema(
        models, ref_template="#/components/schemas/{model}", by_alias=True
    )
    schemas: dict[str, Any] = dict(definitions.get("$defs", {}))
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas.update(SYNC_SCHEMAS)

    created = {
        spec.route: refs[(spec.response_model, "serialization")]
        for _, method, spec in operations
        if method == "POST" and _model(spec.response_model) is not None
    }
    paths: dict[str, dict[str, Any]] = {}
    for route, method, spec in sorted(operations, key=lambda item: (item[0], item[1])):
        operation = _operation(route, method, spec, refs, created.get(route))
        if spec.status == 201 and method == "POST":
            links = _links(route, operations)
            for status in ("201", "200"):
                if links and status in operation["responses"]:
                    operation["responses"][status]["links"] = links
        paths.setdefault(path_of(route), {})[method.lower()] = operation
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
            "responses": _error_components(),
            "headers": HEADERS,
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
        if spec.body_model is not None:
            found[(spec.body_model, "validation")] = None
        if _model(spec.response_model) is not None:
            found[(spec.response_model, "serialization")] = None
    return list(found)


def _model(response: Any) -> type[pydantic.BaseModel] | None:
    import pydantic

    if isinstance(response, type) and issubclass(response, pydantic.BaseModel):
        return response
    return None


def _is_list(method: str, spec: EndpointSpec) -> bool:
    return method == "GET" and spec.name.endswith("_list")


def _has_body(method: str, spec: EndpointSpec) -> bool:
    return spec.body_model is not None and method in WRITES


def _path_parameter(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if name == "targetType":
        schema = {"type": "string", "enum": list(COMMENT_TARGETS)}
    elif name.endswith("Id") or name == "oid":
        schema = dict(ID_SCHEMA)
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query_parameters(method: str, spec: EndpointSpec) -> list[dict[str, Any]]:
    return (PAGE_PARAMETERS if _is_list(method, spec) else []) + QUERY_PARAMETERS.get(spec.name, [])


def _operation(
    route: str, method: str, spec: EndpointSpec, refs: Any, item: dict[str, Any] | None
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": operation_id(spec, method),
        "summary": spec.summary,
        "tags": list(spec.tags),
        "parameters": [_path_parameter(name) for name in ROUTE_PARAMETER.findall(route)]
        + _query_parameters(method, spec),
        "responses": _success_responses(route, method, spec, refs, item),
    }
    if spec.auth:
        operation["security"] = [{"bearer": []}]
    if spec.body_model is not None and _has_body(method, spec):
        media: dict[str, Any] = {"schema": refs[(spec.body_model, "validation")]}
        if spec.name in REQUEST_EXAMPLES:
            media["examples"] = {"typical": {"value": REQUEST_EXAMPLES[spec.name]}}
        operation["requestBody"] = {"required": True, "content": {"application/json": media}}
    for status in error_statuses(route, method, spec):
        operation["responses"][str(status)] = {"$ref": f"#/components/responses/{_name(status)}"}
    return operation


def _header(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/headers/{name}"}


def _success_responses(
    route: str, method: str, spec: EndpointSpec, refs: Any, item: dict[str, Any] | None
) -> dict[str, Any]:
    """The success statuses: no content for 204 and 304, a retried create's 200, list pages
    (whose items are the list's declared response model, or what the collection creates)."""
    if spec.status == 204:
        return {"204": {"description": "No content"}}
    model = _model(spec.response_model)
    schema: dict[str, Any] = {"type": "object"}
    if _is_list(method, spec):
        if model is not None:
            item = refs[(spec.response_model, "serialization")]
        schema = {
            "type": "object",
            "required": ["items", "next"],
            "properties": {
                "items": {"type": "array", "items": item or {"type": "object"}},
                "next": {"type": ["string", "null"]},
            },
        }
    elif model is not None:
        schema = refs[(spec.response_model, "serialization")]
    elif spec.name in RESPONSE_SCHEMAS:
        schema = {"$ref": RESPONSE_SCHEMAS[spec.name]}
    media: dict[str, Any] = {"schema": schema}
    if spec.name in RESPONSE_EXAMPLES:
        media["examples"] = {"typical": {"value": RESPONSE_EXAMPLES[spec.name]}}
    record = model is not None and "version" in model.model_fields
    headers = {"ETag": _header("ETag")} if record else {}
    if spec.name == "families_export":
        headers["Content-Disposition"] = _header("Content-Disposition")
    success: dict[str, Any] = {
        "description": "Success",
        "headers": headers,
        "content": {"application/json": media},
    }
    responses: dict[str, Any] = {}
    if spec.status == 201:
        retried = spec.body_model is not None and "id" in spec.body_model.model_fields
        located = _item_route(route) is not None
        responses["201"] = {
            **success,
            "description": "Created",
            "headers": {**headers, **({"Location": _header("Location")} if located else {})},
        }
        if retried:
            responses["200"] = {**success, "description": "A safe retry: the stored record"}
    elif spec.name == "staff_put":
        responses["200"] = {**success, "description": "Updated"}
        responses["201"] = {**success, "description": "Created"}
    else:
        responses[str(spec.status)] = success
    if method == "GET" and record and route.endswith("}"):
        responses["304"] = {"description": "Not modified (If-None-Match)", "headers": headers}
    for response in responses.values():
        if not response.get("headers"):
            response.pop("headers", None)
    return responses


def error_statuses(route: str, method: str, spec: EndpointSpec) -> list[int]:
    """The error statuses an operation answers, each a problem+json."""
    statuses = {503}
    if spec.auth:
        statuses |= {401, 429}
        if spec.name not in NO_FORBIDDEN:
            statuses.add(403)
    if ROUTE_PARAMETER.search(route):
        statuses.add(404)
    if _query_parameters(method, spec):
        statuses.add(400)
    if method in {"PATCH", "DELETE"} and spec.name not in UNVERSIONED:
        statuses.add(412)
    if _has_body(method, spec):
        statuses |= {400, 413, 415, 422}
        body = spec.body_model
        if method == "POST" and body is not None and "id" in body.model_fields:
            statuses.add(409)
    statuses.update(EXTRA_STATUSES.get(spec.name, ()))
    return sorted(statuses)


def _name(status: int) -> str:
    problem = next(p for p in PROBLEMS.values() if p.status == status)
    return "".join(part.capitalize() for part in problem.slug.split("-"))


def _error_components() -> dict[str, Any]:
    components: dict[str, Any] = {}
    for status, description in ERROR_DESCRIPTIONS.items():
        schema: dict[str, Any] = {
            "allOf": [{"$ref": PROBLEM_REF}, {"properties": {"status": {"const": status}}}]
        }
        if status == 422:
            schema["allOf"][1]["required"] = ["errors"]
        media: dict[str, Any] = {"schema": schema}
        if status in PROBLEM_EXAMPLES:
            media["examples"] = {"typical": {"value": PROBLEM_EXAMPLES[status]}}
        response: dict[str, Any] = {
            "description": description,
            "content": {"application/problem+json": media},
        }
        if status in ERROR_HEADERS:
            name = ERROR_HEADERS[status]
            response["headers"] = {name: _header(name)}
        components[_name(status)] = response
    return components


def _item_route(collection: str) -> str | None:
    """The route of one record created at ``collection``, if it has one."""
    if collection.endswith("/comments"):
        return "families/{familyId}/comments/{commentId}"
    for spec in ENDPOINTS.values():
        rest = spec.route.removeprefix(collection + "/")
        if rest != spec.route and "/" not in rest and ROUTE_PARAMETER.fullmatch(rest):
            return spec.route
    return None


def _shape(route: str) -> str:
    return ROUTE_PARAMETER.sub("{}", route)


def _links(
    collection: str, operations: list[tuple[str, str, EndpointSpec]]
) -> dict[str, dict[str, Any]]:
    """From a creation to what may be done with the record it made: read, change or delete it,
    and create or list what hangs below it (a family's notes, a note's comments)."""
    item = _item_route(collection)
    if item is None:
        return {}
    depth = len(ROUTE_PARAMETER.findall(item))
    source_params = set(ROUTE_PARAMETER.findall(collection))
    kind = collection.rsplit("/", 1)[-1]
    links: dict[str, dict[str, Any]] = {}
    for route, method, spec in operations:
        names = ROUTE_PARAMETER.findall(route)
        below = _shape(route).removeprefix(_shape(item) + "/")
        parameters: dict[str, str] = {}
        if _shape(route) == _shape(item) or (below != _shape(route) and "/" not in below):
            parameters[names[depth - 1]] = "$response.body#/id"
        elif (
            spec.name.startswith("comments_") and kind in COMMENT_TARGETS and "targetType" in names
        ):
            parameters = {"targetType": kind, "targetId": "$response.body#/id"}
        else:
            continue
        missing = [name for name in names if name not in parameters]
        if not set(missing) <= source_params:
            continue
        parameters |= {name: f"$request.path.{name}" for name in missing}
        links[operation_id(spec, method)] = {
            "operationId": operation_id(spec, method),
            "parameters": parameters,
        }
    return links
