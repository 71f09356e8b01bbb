"""The operations of the served OpenAPI document, and how to aim each one at a family's records.

Nothing here lists endpoints: an operation whose path starts with ``/families/{familyId}`` is
per object, and each of its path parameters names a record of the collection written before it
(``/notes/{recordId}``: a note) or, after an enum parameter (``/{targetType}/{targetId}``), of
each collection the enum allows. A collection's variants are the values of ``visibility`` in
the body that creates it (so a new visibility is covered as soon as the schema has it), or, for
records created below another record (comments), one per target collection and variant. The
last record a path names is aimed at once per enum value and per visibility.

Operations outside any family are listed in ``GLOBAL_OPERATIONS``, each with how it is checked;
an operation that is neither per object nor listed there fails ``test_catalogue``.

Request bodies are the document's ``typical`` example where it has one, otherwise the smallest
body its schema accepts (required members only; a merge patch, whose members are all optional,
gets one plain text member). Top-level members naming another record by id (``memberId``) are
filled like path parameters.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import azure.functions as func

PARAMETER = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")
FAMILY_PREFIX = "/families/{familyId}"
FAMILIES = "families"
ANY = "any"
METHODS = ("get", "put", "post", "patch", "delete")
SAMPLE_TEXT = "Checked by the security suite"
SAMPLE_TIME = "2026-12-01T10:00:00Z"
SAMPLE_DATE = "2026-12-01"
FREE_TEXT_LENGTH = 120
SAMPLE_ID = "00000000-0000-4000-8000-000000000000"

# Operations that name no family record, and how tests/security/test_global_operations.py checks
# each. A new one fails test_catalogue until it is listed here and checked there.
GLOBAL_OPERATIONS: dict[tuple[str, str], str] = {
    ("GET", "/health"): "public: says nothing of any family",
    ("GET", "/health/ready"): "public: says nothing of any family",
    ("GET", "/openapi.json"): "public: says nothing of any family",
    ("GET", "/me"): "an outsider's familyIds never name family A",
    ("GET", "/families"): "an outsider's pages never name family A",
    ("POST", "/families"): "family A's id is refused as taken, never shown",
    ("GET", "/staff"): "Admin only; the directory holds no case content",
    ("PUT", "/staff/{oid}"): "Admin only; a refusal is the same for a known and a random oid",
    ("POST", "/invitations/redeem"): "a live code of family A is answered as a random code is",
    ("GET", "/sync"): "an outsider's snapshot and deltas never name family A",
    ("POST", "/sync"): "operations on family A's records are rejected as for random ids",
    ("GET", "/disposals"): "head of service only; certificates carry no personal data",
    ("GET", "/evaluation"): "team managers (own teams) and head of service; counts only",
    ("GET", "/words/unacknowledged"): "managers only; another team's manager never sees family A",
}


@lru_cache(maxsize=1)
def served_document() -> dict[str, Any]:
    """The document as ``GET /openapi.json`` serves it, read when tests are collected (the
    function needs no token and no emulator). Importing the app registers every endpoint."""
    import function_app  # noqa: F401
    from functions import system

    handler = system.system_openapi.build().get_user_function()
    response = handler(
        func.HttpRequest(
            "GET", "http://localhost/api/v1/openapi.json", headers={}, params={}, body=b""
        )
    )
    assert response.status_code == 200, response.get_body()
    document: dict[str, Any] = json.loads(response.get_body())
    return document


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    spec: Mapping[str, Any]

    @property
    def operation_id(self) -> str:
        return str(self.spec.get("operationId") or f"{self.method} {self.path}")

    @property
    def segments(self) -> list[str]:
        return self.path.strip("/").split("/")

    @property
    def parameters(self) -> dict[str, Mapping[str, Any]]:
        return {p["name"]: p for p in self.spec.get("parameters", []) if p.get("in") == "path"}

    @property
    def per_object(self) -> bool:
        return self.path == FAMILY_PREFIX or self.path.startswith(FAMILY_PREFIX + "/")

    @property
    def secured(self) -> bool:
        return bool(self.spec.get("security"))

    def body_media(self) -> Mapping[str, Any] | None:
        content = (self.spec.get("requestBody") or {}).get("content") or {}
        media = content.get("application/json")
        return media if isinstance(media, Mapping) else None

    def statuses(self) -> set[int]:
        return {int(s) for s in self.spec.get("responses", {}) if s.isdigit()}


def operations(document: Mapping[str, Any]) -> list[Operation]:
    found = [
        Operation(method.upper(), path, spec)
        for path, item in document["paths"].items()
        for method, spec in item.items()
        if method in METHODS
    ]
    return sorted(found, key=lambda o: (o.path, METHODS.index(o.method.lower())))


# --- schemas ------------------------------------------------------------------------------------


class Schemas:
    def __init__(self, document: Mapping[str, Any]) -> None:
        self.components: Mapping[str, Any] = document.get("components", {}).get("schemas", {})

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in schema:
            schema = self.components[str(schema["$ref"]).rsplit("/", 1)[-1]]
        return schema

    def concrete(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        """The schema itself, or the first of its ``anyOf``/``oneOf`` that is not ``null``."""
        schema = self.resolve(schema)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = [self.resolve(s) for s in schema[key]]
                chosen = next((s for s in options if s.get("type") != "null"), options[0])
                merged = {k: v for k, v in schema.items() if k != key}
                return {**chosen, **merged}
        return schema

    def enum(self, schema: Mapping[str, Any]) -> list[str]:
        return [str(v) for v in self.concrete(schema).get("enum", [])]

    def sample(self, schema: Mapping[str, Any], name: str = "") -> Any:
        """The smallest value the schema accepts."""
        schema = self.concrete(schema)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][0]
        if "default" in schema and schema["default"] is not None:
            return copy.deepcopy(schema["default"])
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            required = schema.get("required", [])
            properties = schema.get("properties", {})
            return {key: self.sample(properties[key], key) for key in required}
        if kind == "array":
            item = schema.get("items", {})
            return [self.sample(item, name) for _ in range(int(schema.get("minItems", 0)))]
        if kind == "integer":
            return max(1, int(schema.get("minimum", 1)))
        if kind == "number":
            return max(1, schema.get("minimum", 1))
        if kind == "boolean":
            return False
        return self.sample_text(schema, name)

    @staticmethod
    def sample_text(schema: Mapping[str, Any], name: str) -> str:
        formats = {
            "uuid": SAMPLE_ID,
            "date-time": SAMPLE_TIME,
            "date": SAMPLE_DATE,
            "email": "someone@example.org",
            "uri": "https://example.org/",
        }
        if schema.get("format") in formats:
            return formats[str(schema["format"])]
        if "@" in str(schema.get("pattern", "")) or name.lower().endswith("email"):
            return "someone@example.org"
        if name.lower().endswith("phone"):
            return "+447700900000"
        text = SAMPLE_TEXT[: int(schema.get("maxLength", len(SAMPLE_TEXT)))]
        return text.ljust(int(schema.get("minLength", 0)), "x")

    def is_plain_text(self, schema: Mapping[str, Any]) -> bool:
        schema = self.concrete(schema)
        return schema.get("type") == "string" and not (
            {"format", "pattern", "enum", "const"} & set(schema)
        )

    def is_free_text(self, schema: Mapping[str, Any]) -> bool:
        """Plain text long enough to be prose (a title, a note), not a code (a content type)."""
        limit = self.concrete(schema).get("maxLength")
        return self.is_plain_text(schema) and (limit is None or int(limit) >= FREE_TEXT_LENGTH)

    def is_id(self, schema: Mapping[str, Any]) -> bool:
        schema = self.concrete(schema)
        return schema.get("type") == "string" and schema.get("format") == "uuid"


def minimal_body(schemas: Schemas, operation: Operation) -> Any:
    """The operation's typical example, or the smallest body its schema accepts."""
    media = operation.body_media()
    if media is None:
        return None
    examples = media.get("examples") or {}
    for example in examples.values():
        if isinstance(example, Mapping) and "value" in example:
            return copy.deepcopy(example["value"])
    schema = schemas.concrete(media.get("schema", {}))
    body = schemas.sample(schema)
    if isinstance(body, dict) and not body:
        properties: Mapping[str, Any] = schema.get("properties", {})
        plain = [k for k, v in properties.items() if schemas.is_plain_text(v)]
        if plain:
            body[plain[0]] = schemas.sample(properties[plain[0]], plain[0])
    return body


# --- collections and their variants -----------------------------------------------------------


def collection_of(name: str, collections: set[str]) -> str | None:
    """The collection a member named ``<thing>Id`` refers to (``memberId``: ``members``)."""
    if not name.endswith("Id") or len(name) <= 2:
        return None
    stem = name[:-2]
    for candidate in (stem, stem + "s", stem + "es", stem.removesuffix("y") + "ies"):
        if candidate in collections:
            return candidate
    return None


class Catalogue:
    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.schemas = Schemas(document)
        self.operations = operations(document)

    @property
    def per_object(self) -> list[Operation]:
        return [o for o in self.operations if o.per_object]

    @property
    def global_operations(self) -> list[Operation]:
        return [o for o in self.operations if not o.per_object]

    def item_collections(self) -> set[str]:
        """Collections whose records are named in some path (``notes`` in ``/notes/{id}``)."""
        found = {FAMILIES}
        for operation in self.per_object:
            for before, segment in itertools.pairwise(operation.segments):
                if PARAMETER.match(segment) and not PARAMETER.match(before):
                    found.add(before)
            for parameter in operation.parameters.values():
                found.update(self.schemas.enum(parameter.get("schema", {})))
        return found

    def create_operation(self, collection: str) -> Operation | None:
        """The ``POST`` that creates a record of ``collection`` inside a family."""
        creates = [
            o
            for o in self.per_object
            if o.method == "POST" and o.segments[-1] == collection and o.body_media() is not None
        ]
        return min(creates, key=lambda o: len(o.path)) if creates else None

    def enum_parent(self, collection: str) -> tuple[str, list[str]] | None:
        """For records created below a record of several kinds (``/{targetType}/{id}/comments``),
        the enum parameter and its values."""
        create = self.create_operation(collection)
        if create is None or len(create.segments) < 3:
            return None
        parent = PARAMETER.match(create.segments[-3])
        if parent is None:
            return None
        values = self.schemas.enum(create.parameters.get(parent.group(1), {}).get("schema", {}))
        return (parent.group(1), values) if values else None

    def visibilities(self, collection: str) -> list[str]:
        create = self.create_operation(collection)
        media = create.body_media() if create else None
        if media is None:
            return []
        schema = self.schemas.concrete(media.get("schema", {}))
        visibility = schema.get("properties", {}).get("visibility")
        return self.schemas.enum(visibility) if visibility else []

    def variants(self, collection: str) -> list[str]:
        if collection == FAMILIES:
            return [ANY]
        parent = self.enum_parent(collection)
        if parent is not None:
            return [f"{t}.{v}" for t in parent[1] for v in self.variants(t)]
        return self.visibilities(collection) or [ANY]

    def by_visibility(self, collection: str) -> list[str]:
        """One variant per visibility: a record named by its own id is reached the same way
        whatever it hangs below (a comment on a note or on a photo); its visibility is what
        decides who may see it."""
        found: dict[str | None, str] = {}
        for variant in self.variants(collection):
            found.setdefault(self.visibility(collection, variant), variant)
        return list(found.values())

    def visibility(self, collection: str, variant: str) -> str | None:
        """The visibility of the record a variant stands for (a comment has its target's)."""
        if "." in variant:
            target, inner = variant.split(".", 1)
            return self.visibility(target, inner)
        return variant if variant in self.visibilities(collection) else None

    def targets(self) -> list[Target]:
        return [target for operation in self.per_object for target in self.aim(operation)]

    def aim(self, operation: Operation) -> Iterator[Target]:
        """Every way of filling the operation's path (and id members of its body) with family
        A's records: a branch per enum value and per variant of the last record named."""
        segments = operation.segments
        branches: list[tuple[tuple[Slot, ...], tuple[tuple[str, str], ...]]] = [((), ())]
        records = [i for i, s in enumerate(segments) if PARAMETER.match(s)]
        last = records[-1] if records else -1
        for index, segment in enumerate(segments):
            matched = PARAMETER.match(segment)
            if matched is None:
                continue
            name = matched.group(1)
            choices = self.schemas.enum(operation.parameters.get(name, {}).get("schema", {}))
            grown: list[tuple[tuple[Slot, ...], tuple[tuple[str, str], ...]]] = []
            for slots, literals in branches:
                if choices:
                    grown += [(slots, (*literals, (name, value))) for value in choices]
                    continue
                before = segments[index - 1]
                named = dict(literals)
                enum_name = PARAMETER.match(before)
                collection = named.get(enum_name.group(1), "") if enum_name else before
                variants = self.by_visibility(collection)
                chosen = variants if index == last else variants[:1]
                grown += [
                    ((*slots, Slot(name, False, collection, variant)), literals)
                    for variant in chosen
                ]
            branches = grown
        body = minimal_body(self.schemas, operation)
        for slots, literals in branches:
            yield Target(operation, (*slots, *self.body_slots(operation, body)), literals, body)

    def body_slots(self, operation: Operation, body: Any) -> list[Slot]:
        media = operation.body_media()
        if media is None or not isinstance(body, dict):
            return []
        properties = self.schemas.concrete(media.get("schema", {})).get("properties", {})
        collections = self.item_collections()
        slots: list[Slot] = []
        for name in body:
            collection = collection_of(name, collections)
            if collection and name in properties and self.schemas.is_id(properties[name]):
                slots.append(Slot(name, True, collection, self.variants(collection)[0]))
        return slots


@dataclass(frozen=True)
class Slot:
    """A place in a request that names a record: a path parameter or a body member."""

    name: str
    in_body: bool
    collection: str
    variant: str

    @property
    def key(self) -> tuple[str, str]:
        return self.collection, self.variant


@dataclass(frozen=True)
class Target:
    """An operation aimed at family A's records one particular way."""

    operation: Operation
    slots: tuple[Slot, ...]
    literals: tuple[tuple[str, str], ...]
    body: Any

    @property
    def label(self) -> str:
        named = [
            f"{s.collection}.{s.variant}" if s.variant != ANY else s.collection
            for s in self.slots
            if s.collection != FAMILIES and not s.in_body
        ]
        return ",".join(named) or "family"

    @property
    def id(self) -> str:
        return f"{self.operation.operation_id}[{self.label}]"

    @property
    def record_slots(self) -> tuple[Slot, ...]:
        """Slots naming records inside the family (everything but the family itself)."""
        return tuple(s for s in self.slots if s.collection != FAMILIES)
