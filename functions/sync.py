"""Offline sync: delta pull and idempotent batch push."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import Call, Reply, endpoint, problem_body
from shared.composition import get_runtime
from shared.lazy import LazyModule

if TYPE_CHECKING:
    from shared.sync import pull, push
else:
    pull = LazyModule("shared.sync.pull")
    push = LazyModule("shared.sync.push")

bp = func.Blueprint()


@endpoint(
    bp,
    name="sync_pull",
    route="sync",
    methods=["GET"],
    summary="Changes since a token, across every family the caller may see",
    tags=("sync",),
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
    tags=("sync",),
    metered=False,
)
def sync_push(call: Call) -> Reply:
    """A push spends one unit of the caller's writes per operation, all before any is applied."""
    request = call.json(push.PushIn)
    call.spend(len(request.operations))
    pusher = push.Pusher(get_runtime(), call.caller, lambda error: problem_body(error)[0])
    return Reply({"results": pusher.push(request)})
