"""OpenAPI 3.1, generated from the endpoints as declared: routes, models and their own facts.

Every status an operation can answer is declared: its successes with their headers (``ETag`` on
single records, ``Location`` on creations), and its errors as ``application/problem+json``: the
``Problem`` schema, or a kind of it with more to say (``ValidationProblem`` for 422,
``ConflictProblem`` for 409, ``PreconditionFailedProblem`` for 412, each with its own name so a
generated client parses ``errors`` and ``current`` into types of their own), with
``WWW-Authenticate`` on 401 and ``Retry-After`` on 429 and 503. A problem's ``status`` is an
integer, never a constant merged into the base: generators refuse that merge and drop the
response. Creations link to the operations on what they created, so a client (or a stateful
test) can follow them. The generator is handed the endpoints (``ENDPOINTS``, filled as the app
registers them) and names none of them: what one endpoint alone answers or reads, it declares
itself. A list is known by its name, ``<feature>_list``; a PUT creates (201) or replaces (200).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from functions.http.endpoints import PAGE, UUID, EndpointSpec, Query, Schema
from functions.http.problems import PROBLEM_TYPE_BASE, PROBLEMS
from functions.http.routes import ROUTE_PARAMETER, parameters_of, path_of, route_prefix

if TYPE_CHECKING:  # pydantic is imported when the document is first built, not at a cold start
    import pydantic
    from pydantic.json_schema import JsonSchemaMode


def schema_ref(name: str) -> str:
    return f"#/components/schemas/{name}"


PROBLEM_REF = schema_ref("Problem")
WRITES = frozenset({"POST", "PUT", "PATCH"})
BINARY = {"contentMediaType": "application/octet-stream"}

Operation = tuple[str, str, EndpointSpec]

ERRORS: dict[str, Any] = {
    "type": "array",
    "description": "Where validation failed and what kind of failure, never the input.",
    "items": {"$ref": schema_ref("FieldError")},
}
CURRENT: dict[str, Any] = {
    "$ref": schema_ref("StoredRecord"),
    "description": "The stored record (409, 412), when the caller may see it.",
}

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
        "status": {
            "type": "integer",
            "minimum": 400,
            "maximum": 599,
            "description": "The response's status code.",
        },
        "detail": {"type": "string"},
        "errors": ERRORS,
        "current": CURRENT,
    },
}

PROBLEM_SCHEMAS: dict[str, dict[str, Any]] = {
    "Problem": PROBLEM_SCHEMA,
    "FieldError": {
        "type": "object",
        "required": ["loc", "type"],
        "properties": {
            "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
            "type": {"type": "string"},
        },
    },
    "StoredRecord": {
        "type": "object",
        "description": "A record as the caller would read it.",
        "additionalProperties": True,
    },
    "ValidationProblem": {
        "description": "A 422, saying where the input failed in `errors`.",
        "allOf": [
            {"$ref": PROBLEM_REF},
            {"required": ["errors"], "properties": {"errors": ERRORS}},
        ],
    },
    "ConflictProblem": {
        "description": "A 409, with the stored record in `current` when the caller may see it.",
        "allOf": [{"$ref": PROBLEM_REF}, {"properties": {"current": CURRENT}}],
    },
    "PreconditionFailedProblem": {
        "description": "A 412, with the stored record in `current` when there is one to send.",
        "allOf": [{"$ref": PROBLEM_REF}, {"properties": {"current": CURRENT}}],
    },
}
PROBLEM_OF_STATUS = {
    409: "ConflictProblem",
    412: "PreconditionFailedProblem",
    422: "ValidationProblem",
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


def operation_id(spec: EndpointSpec, method: str) -> str:
    return f"{spec.name}_{method.lower()}" if len(spec.methods) > 1 else spec.name


def openapi_document(endpoints: Iterable[EndpointSpec]) -> dict[str, Any]:
    """The document of ``endpoints``, built once for the same endpoints."""
    return _document(tuple(endpoints))


@lru_cache(maxsize=1)
def _document(endpoints: tuple[EndpointSpec, ...]) -> dict[str, Any]:
    from pydantic.json_schema import models_json_schema

    operations = [
        (spec.route, method.upper(), spec) for spec in endpoints for method in spec.methods
    ]
    models = _models(operations)
    refs, definitions = models_json_schema(
        models, ref_template="#/components/schemas/{model}", by_alias=True
    )
    schemas: dict[str, Any] = dict(definitions.get("$defs", {}))
    schemas |= PROBLEM_SCHEMAS
    for spec in endpoints:
        if isinstance(spec.response, Schema):
            schemas.update(spec.response.refers_to)
            schemas[spec.response.name] = spec.response.schema

    created = {
        spec.route: refs[(spec.response_model, "serialization")]
        for _, method, spec in operations
        if method == "POST" and _model(spec.response_model) is not None
    }
    paths: dict[str, dict[str, Any]] = {}
    for route, method, spec in sorted(operations, key=lambda item: (item[0], item[1])):
        operation = _operation(route, method, spec, refs, created.get(route))
        if spec.status == 201 and method == "POST" and spec.location is not None:
            links = _links(route, spec.location, operations)
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


def _models(operations: list[Operation]) -> list[tuple[type[pydantic.BaseModel], JsonSchemaMode]]:
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


def _path_parameter(name: str, spec: EndpointSpec) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if name in spec.path:
        schema = dict(spec.path[name])
    elif name.endswith("Id"):
        schema = dict(UUID)
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query_parameters(method: str, spec: EndpointSpec) -> list[dict[str, Any]]:
    declared = (PAGE if _is_list(method, spec) else ()) + spec.query
    return [_query_parameter(query) for query in declared]


def _query_parameter(query: Query) -> dict[str, Any]:
    parameter: dict[str, Any] = {"name": query.name, "in": "query", "required": False}
    if query.description is not None:
        parameter["description"] = query.description
    parameter["schema"] = dict(query.schema)
    return parameter


def _conditional_parameters(responses: dict[str, Any], errors: list[int]) -> list[dict[str, Any]]:
    """``If-Match`` where a stale version is refused (412), ``If-None-Match`` where an unchanged
    record is a 304: declared, so that generated clients take them as arguments."""
    found = []
    if 412 in errors:
        found.append(("If-Match", "Only if the record's version is still this ETag (else 412)."))
    if "304" in responses:
        found.append(("If-None-Match", "Not sent again while its version is this ETag (304)."))
    return [
        {
            "name": name,
            "in": "header",
            "required": False,
            "description": description,
            "schema": {"type": "string"},
        }
        for name, description in found
    ]


def _operation(
    route: str, method: str, spec: EndpointSpec, refs: Any, item: dict[str, Any] | None
) -> dict[str, Any]:
    responses = _success_responses(route, method, spec, refs, item)
    errors = error_statuses(route, method, spec)
    operation: dict[str, Any] = {
        "operationId": operation_id(spec, method),
        "summary": spec.summary,
        "tags": list(spec.tags),
        "parameters": [_path_parameter(name, spec) for name in parameters_of(route)]
        + _query_parameters(method, spec)
        + _conditional_parameters(responses, errors),
        "responses": responses,
    }
    if spec.auth:
        operation["security"] = [{"bearer": []}]
    if spec.body_model is not None and _has_body(method, spec):
        media: dict[str, Any] = {"schema": refs[(spec.body_model, "validation")]}
        if spec.example is not None:
            media["examples"] = {"typical": {"value": spec.example}}
        operation["requestBody"] = {"required": True, "content": {"application/json": media}}
    for status in errors:
        operation["responses"][str(status)] = {"$ref": f"#/components/responses/{_name(status)}"}
    return operation


def _header(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/headers/{name}"}


def _success_responses(
    route: str, method: str, spec: EndpointSpec, refs: Any, item: dict[str, Any] | None
) -> dict[str, Any]:
    """The success statuses: no content for 204 and 304, a retried create's 200, a PUT's 201 or
    200, list pages (whose items are the list's declared response model or schema, or what the
    collection creates). A single record (a model with a ``version``, or a response declaring
    an ``ETag`` header) is sent with its ETag and may be a 304."""
    if spec.status == 204:
        return {"204": {"description": "No content"}}
    model = _model(spec.response_model)
    schema: dict[str, Any] = {"type": "object"}
    if _is_list(method, spec):
        if model is not None:
            item = refs[(spec.response_model, "serialization")]
        elif isinstance(spec.response, Schema):
            item = {"$ref": schema_ref(spec.response.name)}
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
    elif isinstance(spec.response, Schema):
        schema = {"$ref": schema_ref(spec.response.name)}
    media: dict[str, Any] = {"schema": schema}
    if spec.response_example is not None:
        media["examples"] = {"typical": {"value": spec.response_example}}
    versioned = model is not None and "version" in model.model_fields
    record = not _is_list(method, spec) and (versioned or "ETag" in spec.headers)
    headers = {"ETag": _header("ETag")} if record else {}
    headers |= {name: _header(name) for name in spec.headers}
    content: dict[str, Any] = {"application/json": media}
    for media_type in spec.media_types:
        text = media_type.startswith("text/")
        content[media_type] = {"schema": {"type": "string", **({} if text else BINARY)}}
    success: dict[str, Any] = {"description": "Success", "headers": headers, "content": content}
    responses: dict[str, Any] = {}
    if spec.status == 201:
        retried = spec.body_model is not None and "id" in spec.body_model.model_fields
        located = spec.location is not None
        responses["201"] = {
            **success,
            "description": "Created",
            "headers": {**headers, **({"Location": _header("Location")} if located else {})},
        }
        if retried:
            responses["200"] = {**success, "description": "A safe retry: the stored record"}
    elif method == "PUT":
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
    """The error statuses an operation answers, each a problem+json: those its sign-in, route,
    query, method and body imply, with what the endpoint declares it answers, or never does."""
    statuses = {503}
    if spec.auth:
        statuses |= {401, 403, 429}
    if ROUTE_PARAMETER.search(route):
        statuses.add(404)
    if _query_parameters(method, spec):
        statuses.add(400)
    if method in {"PATCH", "DELETE"}:
        statuses.add(412)
    if _has_body(method, spec):
        statuses |= {400, 413, 415, 422}
        body = spec.body_model
        if method == "POST" and body is not None and "id" in body.model_fields:
            statuses.add(409)
    statuses.update(spec.statuses)
    statuses.difference_update(spec.never)
    return sorted(statuses)


def _name(status: int) -> str:
    problem = next(p for p in PROBLEMS.values() if p.status == status)
    return "".join(part.capitalize() for part in problem.slug.split("-"))


def _error_components() -> dict[str, Any]:
    components: dict[str, Any] = {}
    for status, description in ERROR_DESCRIPTIONS.items():
        schema = {"$ref": schema_ref(PROBLEM_OF_STATUS.get(status, "Problem"))}
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


def _shape(route: str) -> str:
    return ROUTE_PARAMETER.sub("{}", route)


def _links(collection: str, item: str, operations: list[Operation]) -> dict[str, dict[str, Any]]:
    """From a creation to what may be done with the record it made (at ``item``, its declared
    location): read, change or delete it, and create or list what hangs below it (a family's
    notes, a note's comments)."""
    source_params = set(parameters_of(collection))
    kind = collection.rsplit("/", 1)[-1]
    links: dict[str, dict[str, Any]] = {}
    for route, method, spec in operations:
        parameters = _reaching(route, spec, item, kind)
        if parameters is None:
            continue
        missing = [name for name in parameters_of(route) if name not in parameters]
        if not set(missing) <= source_params:
            continue
        parameters |= {name: f"$request.path.{name}" for name in missing}
        links[operation_id(spec, method)] = {
            "operationId": operation_id(spec, method),
            "parameters": parameters,
        }
    return links


def _reaching(route: str, spec: EndpointSpec, item: str, kind: str) -> dict[str, str] | None:
    """The path values by which ``route`` reaches the record at ``item``: its own id, where the
    route is the record's or one segment below it. A path parameter whose declared values
    include the record's collection (a comment's ``targetType``) takes that value first."""
    choices: list[tuple[dict[str, str], str]] = [({}, route)]
    for name, schema in spec.path.items():
        if kind in schema.get("enum", ()):
            named = re.compile(r"\{\*?" + re.escape(name) + r"(?::[^}]*)?\??\}")
            choices.append(({name: kind}, named.sub(kind, route)))
    depth = len(parameters_of(item))
    for fixed, candidate in choices:
        below = _shape(candidate).removeprefix(_shape(item) + "/")
        if _shape(candidate) == _shape(item) or (below != _shape(candidate) and "/" not in below):
            return {**fixed, parameters_of(candidate)[depth - 1]: "$response.body#/id"}
    return None
