"""Visits, agendas, notes, plans and comments: one pattern of endpoints per kind."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import azure.functions as func

from functions.http import Call, Reply, endpoint, record_reply
from functions.openapi import route_prefix
from shared.composition import get_runtime
from shared.lazy import LazyModule
from shared.records.kinds import AGENDA, COMMENT, NOTE, PLAN, VISIT, Kind

if TYPE_CHECKING:
    from shared.models import InputModel
    from shared.records import models
    from shared.records import service as record_service
    from shared.services import case
else:
    models = LazyModule("shared.records.models")
    record_service = LazyModule("shared.records.service")
    case = LazyModule("shared.services.case")

bp = func.Blueprint()


def listing(documents: list[dict[str, Any]], shown: Any, following: str | None) -> Reply:
    return Reply({"items": [shown(d) for d in documents], "next": following})


def not_modified(call: Call, body: dict[str, Any]) -> Reply | None:
    from shared.records.store import etag_matches

    if etag_matches(call.header("if-none-match"), {"_etag": body["version"]}):
        return Reply(None, 304, {"ETag": f'"{body["version"]}"'})
    return None


def listed_page(call: Call, kind: Kind) -> Reply:
    """One page of a family's records of ``kind``, with the kind's query filters."""
    family_id = call.route_id("familyId")
    service = record_service.RecordService(get_runtime())
    access = service.access(call.caller, family_id, kind)
    filters = {name: call.query_id(name) for name in kind.filters}
    found = service.list(
        call.caller,
        kind,
        family_id,
        record_service.page_limit(call.query("limit")),
        call.query("next"),
        {k: v for k, v in filters.items() if v},
        access=access,
    )
    return listing(found.documents, lambda d: case.present_for(access, kind, d), found.next)


def updated(call: Call, kind: Kind, id_param: str, patch: type[InputModel]) -> Reply:
    """A merge patch of one record of ``kind``, honouring If-Match."""
    family_id = call.route_id("familyId")
    service = record_service.RecordService(get_runtime())
    access = service.access(call.caller, family_id, kind)
    stored = service.update(
        call.caller,
        kind,
        family_id,
        call.route_id(id_param),
        call.json(patch),
        call.header("if-match"),
        access=access,
    )
    return record_reply(case.present_for(access, kind, stored))


def deleted(call: Call, kind: Kind, id_param: str) -> Reply:
    """A soft delete of one record of ``kind``, honouring If-Match."""
    service = record_service.RecordService(get_runtime())
    service.delete(
        call.caller,
        kind,
        call.route_id("familyId"),
        call.route_id(id_param),
        call.header("if-match"),
    )
    return Reply(None, 204)


def crud(collection: str, kind: Kind, tag: str) -> tuple[Any, Any, Any, Any, Any]:
    """Create, list, read, update and delete endpoints for one kind of record."""
    base = f"families/{{familyId}}/{collection}"
    item = f"{base}/{{recordId}}"

    def location(family_id: str, record_id: str) -> str:
        return f"{route_prefix()}/families/{family_id}/{collection}/{record_id}"

    @endpoint(
        bp,
        name=f"{collection}_create",
        route=base,
        methods=["POST"],
        summary=f"Create a {kind.label}",
        body=lambda: kind.create,
        response=lambda: kind.out,
        status=201,
        tags=(tag,),
    )
    def create(call: Call) -> Reply:
        family_id = call.route_id("familyId")
        service = record_service.RecordService(get_runtime())
        access = service.access(call.caller, family_id, kind)
        result = service.create(call.caller, kind, family_id, call.json(kind.create), access=access)
        body = case.present_for(access, kind, result.document)
        if result.created:
            return record_reply(body, 201, location(family_id, body["id"]))
        return record_reply(body, 200)

    @endpoint(
        bp,
        name=f"{collection}_list",
        route=base,
        methods=["GET"],
        summary=f"List {collection}",
        tags=(tag,),
    )
    def listed(call: Call) -> Reply:
        return listed_page(call, kind)

    @endpoint(
        bp,
        name=f"{collection}_get",
        route=item,
        methods=["GET"],
        summary=f"Read a {kind.label}",
        response=lambda: kind.out,
        tags=(tag,),
    )
    def read(call: Call) -> Reply:
        family_id = call.route_id("familyId")
        service = record_service.RecordService(get_runtime())
        access = service.access(call.caller, family_id, kind)
        document = service.find(access, kind, call.route_id("recordId"))
        service.audit.record(call.caller, "read", family_id, kind.record_type, document["id"])
        body = case.present_for(access, kind, document)
        return not_modified(call, body) or record_reply(body)

    @endpoint(
        bp,
        name=f"{collection}_update",
        route=item,
        methods=["PATCH"],
        summary=f"Change a {kind.label} (JSON merge patch)",
        body=lambda: kind.patch,
        response=lambda: kind.out,
        tags=(tag,),
    )
    def update(call: Call) -> Reply:
        return updated(call, kind, "recordId", kind.patch)

    @endpoint(
        bp,
        name=f"{collection}_delete",
        route=item,
        methods=["DELETE"],
        summary=f"Delete a {kind.label}",
        status=204,
        tags=(tag,),
    )
    def delete(call: Call) -> Reply:
        return deleted(call, kind, "recordId")

    return create, listed, read, update, delete


visits_create, visits_list, visits_get, visits_update, visits_delete = crud(
    "visits", VISIT, "visits"
)
agendas_create, agendas_list, agendas_get, agendas_update, agendas_delete = crud(
    "agendas", AGENDA, "agendas"
)
notes_create, notes_list, notes_get, notes_update, notes_delete = crud("notes", NOTE, "notes")
plans_create, plans_list, plans_get, plans_update, plans_delete = crud("plans", PLAN, "plans")


@endpoint(
    bp,
    name="agendas_add_item",
    route="families/{familyId}/agendas/{agendaId}/items",
    methods=["POST"],
    summary="Add an item to an agenda (families too)",
    body=lambda: models.AgendaItemIn,
    response=lambda: models.AgendaOut,
    status=201,
    tags=("agendas",),
)
def agendas_add_item(call: Call) -> Reply:
    family_id = call.route_id("familyId")
    runtime = get_runtime()
    stored, added = case.add_agenda_item(
        runtime, call.caller, family_id, call.route_id("agendaId"), call.json(models.AgendaItemIn)
    )
    access = record_service.RecordService(runtime).access(call.caller, family_id, AGENDA)
    return record_reply(case.present_for(access, AGENDA, stored), 201 if added else 200)


@endpoint(
    bp,
    name="comments_create",
    route="families/{familyId}/{targetType}/{targetId}/comments",
    methods=["POST"],
    summary="Comment on a note, agenda, plan or media",
    body=lambda: models.CommentIn,
    response=lambda: models.CommentOut,
    status=201,
    tags=("comments",),
)
def comments_create(call: Call) -> Reply:
    family_id = call.route_id("familyId")
    runtime = get_runtime()
    result = case.create_comment(
        runtime,
        call.caller,
        family_id,
        call.route("targetType"),
        call.route_id("targetId"),
        call.json(models.CommentIn),
    )
    access = record_service.RecordService(runtime).access(call.caller, family_id, COMMENT)
    body = case.present_for(access, COMMENT, result.document)
    if result.created:
        where = f"{route_prefix()}/families/{family_id}/comments/{body['id']}"
        return record_reply(body, 201, where)
    return record_reply(body, 200)


@endpoint(
    bp,
    name="comments_list",
    route="families/{familyId}/{targetType}/{targetId}/comments",
    methods=["GET"],
    summary="Comments on a record, oldest first",
    tags=("comments",),
)
def comments_list(call: Call) -> Reply:
    family_id = call.route_id("familyId")
    runtime = get_runtime()
    found = case.list_comments(
        runtime,
        call.caller,
        family_id,
        call.route("targetType"),
        call.route_id("targetId"),
        record_service.page_limit(call.query("limit")),
        call.query("next"),
    )
    access = record_service.RecordService(runtime).access(call.caller, family_id, COMMENT)
    return listing(found.documents, lambda d: case.present_for(access, COMMENT, d), found.next)


@endpoint(
    bp,
    name="comments_update",
    route="families/{familyId}/comments/{commentId}",
    methods=["PATCH"],
    summary="Change your comment",
    body=lambda: models.CommentPatch,
    response=lambda: models.CommentOut,
    tags=("comments",),
)
def comments_update(call: Call) -> Reply:
    return updated(call, COMMENT, "commentId", models.CommentPatch)


@endpoint(
    bp,
    name="comments_delete",
    route="families/{familyId}/comments/{commentId}",
    methods=["DELETE"],
    summary="Delete your comment",
    status=204,
    tags=("comments",),
)
def comments_delete(call: Call) -> Reply:
    return deleted(call, COMMENT, "commentId")
