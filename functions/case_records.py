"""Visits, agendas, notes, plans, comments and the chronology: one pattern of endpoints per kind,
and a visit's sign-off and its case record for the case management system."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import (
    Call,
    Query,
    Reply,
    crud,
    deleted,
    endpoint,
    listing,
    record_reply,
    updated,
)
from shared.bootstrap import get_runtime
from shared.errors import BadRequestError
from shared.lazy import LazyModule
from shared.records.kinds import (
    AGENDA,
    CHRONOLOGY_EVENT,
    COMMENT,
    COMMENT_TARGETS,
    NOTE,
    PLAN,
    VISIT,
)

if TYPE_CHECKING:
    from shared.records import models
    from shared.services import chronology, views
else:
    models = LazyModule("shared.records.models")
    chronology = LazyModule("shared.services.chronology")
    views = LazyModule("shared.services.views")

bp = func.Blueprint()

COMMENTS = "families/{familyId}/{targetType}/{targetId}/comments"
COMMENT_ITEM = "families/{familyId}/comments/{commentId}"
TARGET_TYPE = {"targetType": {"type": "string", "enum": list(COMMENT_TARGETS)}}
VISIT_ITEM = "families/{familyId}/visits/{visitId}"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
STAFF = {"id": "8c2d3c5e-3d6a-4a55-9a27-1f1f3a9b0c11", "name": "Sam Patel", "kind": "staff"}

crud(
    bp,
    "visits",
    VISIT,
    create_example={
        "startsAt": "2026-11-26T14:00:00Z",
        "endsAt": "2026-11-26T15:00:00Z",
        "location": "Home",
    },
)
crud(
    bp,
    "agendas",
    AGENDA,
    create_example={
        "title": "Thursday's visit",
        "items": [{"id": "5b0d4c3e-8f1a-4f7e-9c2d-1a2b3c4d5e6f", "text": "School mornings"}],
    },
)
crud(
    bp,
    "notes",
    NOTE,
    create_example={
        "body": "We talked about mornings before school and agreed a new routine.",
        "visibility": "family",
    },
    created_example={
        "id": "7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "familyId": "3f2e1d0c-9b8a-4c7d-8e6f-5a4b3c2d1e0f",
        "type": "note",
        "visitId": None,
        "body": "We talked about mornings before school and agreed a new routine.",
        "visibility": "family",
        "disputed": False,
        "createdAt": "2026-11-26T15:04:00Z",
        "createdBy": STAFF,
        "updatedAt": "2026-11-26T15:04:00Z",
        "updatedBy": STAFF,
        "version": "00000a1b-0000-0d00-0000-6745e3a80000",
    },
    update_example={"body": "We talked about mornings and agreed a routine to try."},
)
crud(
    bp,
    "plans",
    PLAN,
    create_example={
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
)


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
    statuses=(412,),
    example={"text": "Swimming lessons"},
)
def agendas_add_item(call: Call) -> Reply:
    stored, added = views.add_agenda_item(
        get_runtime(),
        call.caller,
        call.route_id("familyId"),
        call.route_id("agendaId"),
        call.json(models.AgendaItemIn),
    )
    return record_reply(stored, 201 if added else 200)


@endpoint(
    bp,
    name="comments_create",
    route=COMMENTS,
    methods=["POST"],
    summary="Comment on a note, agenda, plan or media",
    body=lambda: models.CommentIn,
    response=lambda: models.CommentOut,
    status=201,
    tags=("comments",),
    location=COMMENT_ITEM,
    path=TARGET_TYPE,
    example={"body": "Thank you, that helps."},
)
def comments_create(call: Call) -> Reply:
    made = views.create_comment(
        get_runtime(),
        call.caller,
        call.route_id("familyId"),
        call.route("targetType"),
        call.route_id("targetId"),
        call.json(models.CommentIn),
    )
    return call.created(made.document) if made.created else record_reply(made.document)


@endpoint(
    bp,
    name="comments_list",
    route=COMMENTS,
    methods=["GET"],
    summary="Comments on a record, oldest first",
    tags=("comments",),
    path=TARGET_TYPE,
)
def comments_list(call: Call) -> Reply:
    found = views.list_comments(
        get_runtime(),
        call.caller,
        call.route_id("familyId"),
        call.route("targetType"),
        call.route_id("targetId"),
        *call.page(),
    )
    return listing(found.documents, None, found.next)


@endpoint(
    bp,
    name="comments_update",
    route=COMMENT_ITEM,
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
    route=COMMENT_ITEM,
    methods=["DELETE"],
    summary="Delete your comment",
    status=204,
    tags=("comments",),
)
def comments_delete(call: Call) -> Reply:
    return deleted(call, COMMENT, "commentId")


crud(
    bp,
    "chronology",
    CHRONOLOGY_EVENT,
    listed=False,
    create_example={
        "date": "2026-10-14",
        "category": "education",
        "summary": "Mia started at Greenfield Primary; the school's safeguarding lead was told.",
        "visibility": "family",
    },
)


@endpoint(
    bp,
    name="chronology_read",
    route="families/{familyId}/chronology",
    methods=["GET"],
    summary="The family's chronology, oldest first (JSON, CSV or Word)",
    response=lambda: models.ChronologyOut,
    tags=("chronology",),
    query=(
        Query(
            "format",
            {"type": "string", "enum": ["json", "csv", "docx"], "default": "json"},
            "csv: the court's columns (serial, date, event, source); docx: a Word document.",
        ),
    ),
    media_types=("text/csv", DOCX),
)
def chronology_read(call: Call) -> Reply:
    found = chronology.read_chronology(
        get_runtime(), call.caller, call.route_id("familyId"), call.query("format")
    )
    if found.content is None:
        return Reply({"items": found.items})
    disposition = {"Content-Disposition": f'attachment; filename="{found.file_name}"'}
    return Reply(found.content, headers=disposition, content_type=found.media_type)


@endpoint(
    bp,
    name="visits_sign_off",
    route=VISIT_ITEM + "/sign-off",
    methods=["POST"],
    summary="Sign off a visit's record (team managers, head of service)",
    response=lambda: models.VisitOut,
    tags=("visits",),
    statuses=(409, 412),
)
def visits_sign_off(call: Call) -> Reply:
    visit = views.sign_off_visit(
        get_runtime(),
        call.caller,
        call.route_id("familyId"),
        call.route_id("visitId"),
        call.header("if-match"),
    )
    return record_reply(visit)


@endpoint(
    bp,
    name="visits_case_record",
    route=VISIT_ITEM + "/case-record",
    methods=["GET"],
    summary="The visit as the case management system wants it, with a case note to paste",
    response=lambda: models.CaseRecordOut,
    tags=("visits",),
    query=(
        Query(
            "format",
            {"type": "string", "enum": ["json", "text"], "default": "json"},
            "text: the case note alone, as text/plain.",
        ),
    ),
    statuses=(409,),
    media_types=("text/plain",),
)
def visits_case_record(call: Call) -> Reply:
    text_only = call.query("format") == "text"
    if call.query("format") not in (None, "json", "text"):
        raise BadRequestError("format must be json or text.")
    record = views.case_record(
        get_runtime(), call.caller, call.route_id("familyId"), call.route_id("visitId")
    )
    if text_only:
        return Reply(str(record["text"]).encode(), content_type="text/plain")
    return Reply(record)


@endpoint(
    bp,
    name="visits_case_record_recorded",
    route=VISIT_ITEM + "/case-record/recorded",
    methods=["POST"],
    summary="Mark the visit as recorded in the case management system (once)",
    response=lambda: models.VisitOut,
    tags=("visits",),
    statuses=(409,),
)
def visits_case_record_recorded(call: Call) -> Reply:
    visit = views.mark_recorded_in_cms(
        get_runtime(), call.caller, call.route_id("familyId"), call.route_id("visitId")
    )
    return record_reply(visit)
