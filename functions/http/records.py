"""The routes every kind of case record shares: create, list, read, change and delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import azure.functions as func

from functions.http.call import Call
from functions.http.endpoints import UUID, Example, Query, endpoint
from functions.http.replies import Reply, listing, record_reply
from shared.bootstrap import get_runtime
from shared.lazy import LazyModule
from shared.records.kinds import Kind

if TYPE_CHECKING:
    from shared.models import InputModel
    from shared.records import service as record_service
    from shared.services import views
else:
    record_service = LazyModule("shared.records.service")
    views = LazyModule("shared.services.views")


def filters(kind: Kind) -> tuple[Query, ...]:
    """The query parameters that narrow a list of ``kind`` (``?visitId=``)."""
    return tuple(Query(name, UUID) for name in kind.filters)


def not_modified(call: Call, body: dict[str, Any]) -> Reply | None:
    """304 when the caller's If-None-Match names the record's version."""
    from shared.records.store import etag_matches

    if etag_matches(call.header("if-none-match"), {"_etag": body["version"]}):
        return Reply(None, 304, {"ETag": f'"{body["version"]}"'})
    return None


def listed_page(call: Call, kind: Kind) -> Reply:
    """One page of a family's records of ``kind``, with the kind's query filters."""
    found = views.list_records(
        get_runtime(),
        call.caller,
        kind,
        call.route_id("familyId"),
        *call.page(),
        {name: value for name in kind.filters if (value := call.query_id(name))},
    )
    return listing(found.documents, None, found.next)


def created_record(call: Call, kind: Kind) -> Reply:
    """A new record of ``kind`` in the route's family: 201 where it is created, or 200 with the
    stored record when the same create is repeated."""
    made = views.create_record(
        get_runtime(), call.caller, kind, call.route_id("familyId"), call.json(kind.create)
    )
    return call.created(made.document) if made.created else record_reply(made.document)


def read_record(call: Call, kind: Kind, id_param: str) -> Reply:
    """One record of ``kind``, audited, honouring If-None-Match."""
    body = views.read_record(
        get_runtime(), call.caller, kind, call.route_id("familyId"), call.route_id(id_param)
    )
    return not_modified(call, body) or record_reply(body)


def updated(call: Call, kind: Kind, id_param: str, patch: type[InputModel]) -> Reply:
    """A merge patch of one record of ``kind``, honouring If-Match."""
    stored = views.update_record(
        get_runtime(),
        call.caller,
        kind,
        call.route_id("familyId"),
        call.route_id(id_param),
        call.json(patch),
        call.header("if-match"),
    )
    return record_reply(stored)


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


def crud(
    bp: func.Blueprint,
    collection: str,
    kind: Kind,
    *,
    create_example: Example | None = None,
    created_example: Example | None = None,
    update_example: Example | None = None,
    listed: bool = True,
) -> None:
    """Create, list, read, update and delete endpoints for one kind of record, at
    ``families/{familyId}/<collection>`` and one record below it, tagged ``collection``; without
    the list when the collection's own ``GET`` is declared elsewhere (``listed=False``)."""
    base = f"families/{{familyId}}/{collection}"
    item = f"{base}/{{recordId}}"
    tags = (collection,)

    @endpoint(
        bp,
        name=f"{collection}_create",
        route=base,
        methods=["POST"],
        summary=f"Create a {kind.label}",
        body=lambda: kind.create,
        response=lambda: kind.out,
        status=201,
        tags=tags,
        location=item,
        example=create_example,
        response_example=created_example,
    )
    def create(call: Call) -> Reply:
        return created_record(call, kind)

    if listed:

        @endpoint(
            bp,
            name=f"{collection}_list",
            route=base,
            methods=["GET"],
            summary=f"List {collection}",
            tags=tags,
            query=filters(kind),
        )
        def page(call: Call) -> Reply:
            return listed_page(call, kind)

    @endpoint(
        bp,
        name=f"{collection}_get",
        route=item,
        methods=["GET"],
        summary=f"Read a {kind.label}",
        response=lambda: kind.out,
        tags=tags,
    )
    def read(call: Call) -> Reply:
        return read_record(call, kind, "recordId")

    @endpoint(
        bp,
        name=f"{collection}_update",
        route=item,
        methods=["PATCH"],
        summary=f"Change a {kind.label} (JSON merge patch)",
        body=lambda: kind.patch,
        response=lambda: kind.out,
        tags=tags,
        example=update_example,
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
        tags=tags,
    )
    def delete(call: Call) -> Reply:
        return deleted(call, kind, "recordId")
