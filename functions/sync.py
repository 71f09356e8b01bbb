"""Offline sync: delta pull and idempotent batch push."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import azure.functions as func

from functions.http import Call, Query, Reply, Schema, endpoint, problem_body
from shared.bootstrap import get_runtime
from shared.lazy import LazyModule

if TYPE_CHECKING:
    from shared.sync import pull, push
else:
    pull = LazyModule("shared.sync.pull")
    push = LazyModule("shared.sync.push")

bp = func.Blueprint()

SYNC_CHANGE: dict[str, Any] = {
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
}
SYNC_PAGE = Schema(
    "SyncPage",
    {
        "type": "object",
        "required": ["changes", "next", "more"],
        "properties": {
            "changes": {"type": "array", "items": {"$ref": "#/components/schemas/SyncChange"}},
            "next": {"type": "string"},
            "more": {"type": "boolean"},
        },
    },
    {"SyncChange": SYNC_CHANGE},
)
SYNC_RESULTS = Schema(
    "SyncResults",
    {
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
                        "problem": {"$ref": "#/components/schemas/Problem"},
                    },
                },
            }
        },
    },
)


@endpoint(
    bp,
    name="sync_pull",
    route="sync",
    methods=["GET"],
    summary="Changes since a token, across every family the caller may see",
    response=SYNC_PAGE,
    tags=("sync",),
    query=(
        Query(
            "since",
            {"type": "string"},
            "The next of the previous pull; without it, a full snapshot.",
        ),
        Query("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 500}),
    ),
    statuses=(410,),
)
def sync_pull(call: Call) -> Reply:
    puller = pull.Puller(get_runtime(), call.caller)
    return Reply(puller.pull(call.query("since"), pull.sync_limit(call.query("limit"))))


@endpoint(
    bp,
    name="sync_push",
    route="sync",
    methods=["POST"],
    summary="Apply queued offline operations, each at most once",
    body=lambda: push.PushIn,
    response=SYNC_RESULTS,
    tags=("sync",),
    metered=False,
    example={
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
)
def sync_push(call: Call) -> Reply:
    """A push spends one unit of the caller's writes per operation, all before any is applied."""
    request = call.json(push.PushIn)
    call.spend(len(request.operations))
    pusher = push.Pusher(get_runtime(), call.caller, lambda error: problem_body(error)[0])
    return Reply({"results": pusher.push(request)})
