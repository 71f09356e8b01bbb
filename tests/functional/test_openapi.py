from __future__ import annotations

import inspect
from typing import Any

import pydantic

import function_app  # noqa: F401 - registers every blueprint's endpoints, as the host does
from functions import system
from functions.http.endpoints import ENDPOINTS, Schema
from functions.http.openapi import PROBLEM_EXAMPLES, PROBLEM_SCHEMA, schema_ref
from functions.http.openapi import openapi_document as generate
from functions.http.problems import PROBLEMS
from functions.http.routes import path_of
from tests.functional.calls import call


def openapi_document() -> dict[str, Any]:
    """The document the app serves: of every endpoint it registered."""
    return generate(ENDPOINTS.values())


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
    assert "security" not in document["paths"]["/health/ready"]["get"]


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def _response(document: dict[str, Any], operation: dict[str, Any], status: str) -> Any:
    response = operation["responses"][status]
    return _resolve(document, response["$ref"]) if "$ref" in response else response


def _header_names(document: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    return {
        name: _resolve(document, header["$ref"]) if "$ref" in header else header
        for name, header in response.get("headers", {}).items()
    }


KINDS = {409: "ConflictProblem", 412: "PreconditionFailedProblem", 422: "ValidationProblem"}


def test_every_error_response_is_problem_json_of_problem_or_its_named_kind() -> None:
    """Each error is a ``$ref`` to ``Problem``, or for 409, 412 and 422 to a kind of it that is
    ``Problem`` and more: never an inline schema a generator has to name or merge."""
    document = openapi_document()
    schemas = document["components"]["schemas"]
    for name in KINDS.values():
        assert schemas[name]["allOf"][0] == {"$ref": schema_ref("Problem")}, name
    for name in ("ConflictProblem", "PreconditionFailedProblem"):
        current = schemas[name]["allOf"][1]["properties"]["current"]
        assert _resolve(document, current["$ref"])["type"] == "object"
    assert schemas["ValidationProblem"]["allOf"][1]["required"] == ["errors"]
    for path, method, operation in _operations(document):
        for status in operation["responses"]:
            if int(status) < 400:
                continue
            response = _response(document, operation, status)
            content = response["content"]
            assert list(content) == ["application/problem+json"], (path, method, status)
            schema = content["application/problem+json"]["schema"]
            assert schema == {"$ref": schema_ref(KINDS.get(int(status), "Problem"))}


def test_every_operation_declares_503_with_retry_after() -> None:
    document = openapi_document()
    for path, method, operation in _operations(document):
        headers = _header_names(document, _response(document, operation, "503"))
        assert headers["Retry-After"]["required"], (path, method)
        assert headers["Retry-After"]["schema"]["type"] == "integer"


def test_every_authenticated_operation_declares_401_with_www_authenticate() -> None:
    document = openapi_document()
    for path, method, operation in _operations(document):
        if "security" not in operation:
            assert path in {"/health", "/health/ready", "/openapi.json"}
            assert "401" not in operation["responses"]
            continue
        headers = _header_names(document, _response(document, operation, "401"))
        assert headers["WWW-Authenticate"]["required"], (path, method)


def test_every_operation_with_a_body_declares_400_413_415_and_422() -> None:
    document = openapi_document()
    with_body = [op for _, _, op in _operations(document) if "requestBody" in op]
    assert len(with_body) >= 20
    for operation in with_body:
        assert {"400", "413", "415", "422"} <= set(operation["responses"]), operation["operationId"]
        assert list(operation["requestBody"]["content"]) == ["application/json"]
    unprocessable = _response(document, with_body[0], "422")
    schema = unprocessable["content"]["application/problem+json"]["schema"]
    assert schema == {"$ref": schema_ref("ValidationProblem")}


def test_sync_pull_declares_410_and_its_token_and_limit() -> None:
    document = openapi_document()
    pull = document["paths"]["/sync"]["get"]
    assert {"200", "400", "401", "410", "503"} <= set(pull["responses"])
    query = {p["name"]: p["schema"] for p in pull["parameters"] if p["in"] == "query"}
    assert query["since"] == {"type": "string"}
    assert query["limit"]["maximum"] == 1000
    page = _resolve(
        document, pull["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    )
    assert page["required"] == ["changes", "next", "more"]
    assert "410" not in document["paths"]["/sync"]["post"]["responses"]


def test_every_signed_in_operation_declares_429_with_retry_after_and_the_open_ones_do_not() -> None:
    """Every signed-in caller is rate limited; /health and /openapi.json are not."""
    document = openapi_document()
    for path, method, operation in _operations(document):
        if "security" not in operation:
            assert "429" not in operation["responses"], (path, method)
            continue
        response = _response(document, operation, "429")
        assert _header_names(document, response)["Retry-After"]["required"], (path, method)
    redeem = document["paths"]["/invitations/redeem"]["post"]
    assert "404" in redeem["responses"]


def test_forbidden_and_not_found_are_declared_where_they_apply() -> None:
    document = openapi_document()
    for path, method, operation in _operations(document):
        statuses = set(operation["responses"])
        # Beside the paths naming a record: a redemption names a code, the evaluation a team.
        named = "{" in path or path in ("/invitations/redeem", "/evaluation")
        assert ("404" in statuses) == named, path
        if "security" in operation and path != "/me":
            assert "403" in statuses, (path, method)
    assert "403" not in document["paths"]["/me"]["get"]["responses"]
    for method in ("patch", "delete"):
        assert (
            "412" in document["paths"]["/families/{familyId}/notes/{recordId}"][method]["responses"]
        )


def test_the_staff_directory_is_at_staff_with_an_optional_phone() -> None:
    document = openapi_document()
    assert {"/staff", "/staff/{oid}"} <= set(document["paths"])
    assert not [p for p in document["paths"] if p.lower().startswith(("/admin", "/runtime"))]
    put = document["paths"]["/staff/{oid}"]["put"]
    assert put["operationId"] == "staff_put"
    assert put["tags"] == ["staff"]
    body = put["requestBody"]["content"]["application/json"]["schema"]
    schema = _resolve(document, body["$ref"]) if "$ref" in body else body
    assert "phone" in schema["properties"]
    assert "phone" not in schema.get("required", [])
    assert document["paths"]["/staff"]["get"]["operationId"] == "staff_list"


def test_partner_grants_and_the_family_views_are_declared() -> None:
    """A page of grants has no ETag (its items do), a grant and a family do, whichever view of
    the family is sent (a partner's has no version in its body); an ended grant's change is 409;
    "who can see" is a model of its own."""
    document = openapi_document()
    paths = document["paths"]
    grants = paths["/families/{familyId}/partners"]
    assert "headers" not in grants["get"]["responses"]["200"]
    items = grants["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert items["properties"]["items"]["items"] == {"$ref": schema_ref("GrantOut")}
    assert set(_header_names(document, grants["post"]["responses"]["201"])) == {
        "ETag",
        "Location",
    }
    grant = paths["/families/{familyId}/partners/{grantId}"]
    assert "ETag" in _header_names(document, grant["get"]["responses"]["304"])
    assert "409" in grant["patch"]["responses"]
    assert "412" in grant["delete"]["responses"]
    family = paths["/families/{familyId}"]["get"]["responses"]
    assert _header_names(document, family["200"])["ETag"]["required"]
    assert "ETag" in _header_names(document, family["304"])
    view = _resolve(document, schema_ref("FamilyView"))
    assert view["anyOf"][0] == {"$ref": schema_ref("FamilyOut")}
    partner_view = _resolve(document, view["anyOf"][1]["$ref"])
    assert partner_view["required"] == ["id", "displayName", "teamId"]
    families = paths["/families"]["get"]["responses"]["200"]
    assert "headers" not in families
    access = paths["/families/{familyId}/access"]["get"]["responses"]["200"]
    schema = access["content"]["application/json"]["schema"]
    assert _resolve(document, schema["$ref"])["required"] == [
        "workers",
        "teams",
        "partners",
        "familySignIns",
    ]


def test_single_records_declare_their_etag_and_creations_their_location() -> None:
    document = openapi_document()
    notes = document["paths"]["/families/{familyId}/notes"]["post"]["responses"]
    assert set(_header_names(document, notes["201"])) == {"ETag", "Location"}
    assert set(_header_names(document, notes["200"])) == {"ETag"}
    note = document["paths"]["/families/{familyId}/notes/{recordId}"]
    assert _header_names(document, note["get"]["responses"]["200"])["ETag"]["required"]
    assert "ETag" in _header_names(document, note["get"]["responses"]["304"])
    assert "content" not in note["get"]["responses"]["304"]
    assert "ETag" in _header_names(document, note["patch"]["responses"]["200"])
    staff = document["paths"]["/staff/{oid}"]["put"]["responses"]
    assert {"200", "201"} <= set(staff)
    invitation = document["paths"]["/families/{familyId}/invitations"]["post"]["responses"]
    assert "200" not in invitation
    assert "409" not in invitation
    assert "headers" not in invitation["201"]
    export = document["paths"]["/families/{familyId}/export"]["get"]["responses"]["200"]
    assert "Content-Disposition" in _header_names(document, export)


def _model_of(declared: Any) -> type[pydantic.BaseModel]:
    """An endpoint's model, declared directly or as a function returning it."""
    model = declared() if inspect.isfunction(declared) else declared
    assert isinstance(model, type)
    assert issubclass(model, pydantic.BaseModel)
    return model


def test_request_and_response_examples_are_valid() -> None:
    document = openapi_document()
    by_id = {op["operationId"]: op for _, _, op in _operations(document)}
    requests = {name: e.example for name, e in ENDPOINTS.items() if e.example is not None}
    responses = {
        name: e.response_example for name, e in ENDPOINTS.items() if e.response_example is not None
    }
    assert set(requests) <= set(by_id)
    for name in ("families_create", "visits_create", "notes_create", "media_create"):
        assert name in requests
    for name, example in requests.items():
        _model_of(ENDPOINTS[name].body).model_validate(example)
        media = by_id[name]["requestBody"]["content"]["application/json"]
        assert media["examples"]["typical"]["value"] == example
    assert responses
    for name, example in responses.items():
        response = _model_of(ENDPOINTS[name].response)
        response.model_validate(example)
        assert set(example) <= set(response.model_json_schema(by_alias=True)["properties"])
        for answer in ("201", "200"):
            media = by_id[name]["responses"][answer]["content"]["application/json"]
            assert media["examples"]["typical"]["value"] == example
    for status, example in PROBLEM_EXAMPLES.items():
        assert example["status"] == status
        assert set(PROBLEM_SCHEMA["required"]) <= set(example)


def test_creations_link_to_reading_and_changing_what_they_created() -> None:
    document = openapi_document()
    by_id = {op["operationId"]: (path, op) for path, _, op in _operations(document)}
    created = document["paths"]["/families/{familyId}/notes"]["post"]["responses"]["201"]
    links = created["links"]
    assert links["notes_get"]["parameters"] == {
        "recordId": "$response.body#/id",
        "familyId": "$request.path.familyId",
    }
    assert {"notes_update", "notes_delete", "notes_versions_list", "notes_disputes_create"} <= set(
        links
    )
    assert links["comments_create"]["parameters"]["targetType"] == "notes"
    family = document["paths"]["/families"]["post"]["responses"]["201"]["links"]
    assert family["notes_create"]["parameters"] == {"familyId": "$response.body#/id"}
    linked = 0
    for _, _, operation in _operations(document):
        for response in operation["responses"].values():
            for link in response.get("links", {}).values():
                _, target = by_id[link["operationId"]]
                names = {p["name"] for p in target["parameters"] if p["in"] == "path"}
                assert set(link["parameters"]) == names, link
                linked += 1
    assert linked >= 50


def test_what_endpoints_declare_reaches_their_operations() -> None:
    """Extra statuses, query parameters, path schemas, response schemas and headers are each
    declared once, on the endpoint, and the document shows them on its operations."""
    document = openapi_document()
    routes = {e.route for e in ENDPOINTS.values()}
    for name, declared in ENDPOINTS.items():
        for method in declared.methods:
            operation = document["paths"][path_of(declared.route)][method.lower()]
            statuses = set(operation["responses"])
            assert {str(s) for s in declared.statuses} <= statuses, name
            assert not {str(s) for s in declared.never} & statuses, name
            parameters = {(p["in"], p["name"]): p["schema"] for p in operation["parameters"]}
            for query in declared.query:
                assert parameters[("query", query.name)] == query.schema, name
            for parameter, schema in declared.path.items():
                assert parameters[("path", parameter)] == schema, name
            if isinstance(declared.response, Schema):
                success = operation["responses"][str(declared.status)]
                schema = success["content"]["application/json"]["schema"]
                if name.endswith("_list"):  # a page of them
                    schema = schema["properties"]["items"]["items"]
                assert schema == {"$ref": schema_ref(declared.response.name)}, name
                assert _resolve(document, schema["$ref"]) == declared.response.schema
            for header in declared.headers:
                assert header in operation["responses"][str(declared.status)]["headers"], name
        if declared.location is not None:
            assert declared.location in routes, name
    declared_statuses = {
        int(status)
        for _, _, op in _operations(openapi_document())
        for status in op["responses"]
        if int(status) >= 400
    }
    assert declared_statuses == {p.status for p in PROBLEMS.values()}


def test_family_sign_ins_are_listed_and_revoked_with_their_statuses() -> None:
    document = openapi_document()
    path = "/families/{familyId}/members/{memberId}/links"
    listed = document["paths"][path]["get"]
    assert listed["operationId"] == "links_list"
    assert {"200", "400", "401", "403", "404", "503"} <= set(listed["responses"])
    assert {p["name"] for p in listed["parameters"] if p["in"] == "query"} == {"limit", "next"}
    page = listed["responses"]["200"]["content"]["application/json"]["schema"]
    item = _resolve(document, page["properties"]["items"]["items"]["$ref"])
    assert set(item["properties"]) == {"id", "linkedAt", "lastSeenAt"}
    assert sorted(item["required"]) == ["id", "linkedAt"]
    revoke = document["paths"][path + "/{linkId}"]["delete"]
    assert revoke["operationId"] == "links_revoke"
    assert {"204", "401", "403", "404", "503"} <= set(revoke["responses"])
    assert not {"200", "400", "412", "413", "415", "422"} & set(revoke["responses"])
    link_id = next(p for p in revoke["parameters"] if p["name"] == "linkId")
    assert link_id["schema"]["format"] == "uuid"


def test_a_list_page_declares_no_etag_and_its_items_schema() -> None:
    """A page has no version of its own, even when its items are records that have one."""
    document = openapi_document()
    for path in ("/families/{familyId}/words", "/families/{familyId}/safety-alerts"):
        operation = document["paths"][path]["get"]
        success = _response(document, operation, "200")
        assert "ETag" not in _header_names(document, success), path
        items = success["content"]["application/json"]["schema"]["properties"]["items"]
        assert "$ref" in items["items"], path
