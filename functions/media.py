"""Media: upload slots and media records over HTTP, and the functions that process uploads.

``media_process_upload`` runs on the ``Microsoft.Storage.BlobCreated`` events of the ``uploads``
container, which Event Grid puts on the ``media-uploads`` Storage queue
(``infra/app/upload-events.bicep``; locally, the host's Event Grid stand-in does). Processing a
long video or recording takes minutes, and Event Grid redelivers any delivery not answered in
30 s, so nothing runs inside a delivery: the queue trigger runs it, with the message hidden
while it works, retried after a failure and moved to the poison queue after the last. (The blob
trigger's Event Grid source was the other way; in Python it hands the function the blob's bytes
unless the SDK-type binding package is loaded at every cold start.) The event names the blob
and nothing more: the processor opens it with the app's own client and streams it
(``shared.services.media_processing``), so no upload's bytes pass through the host, and no
Storage SDK is imported until an upload arrives.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import (
    Call,
    Reply,
    deleted,
    endpoint,
    filters,
    listed_page,
    not_modified,
    record_reply,
    traced,
    updated,
)
from shared.bootstrap import get_runtime
from shared.lazy import LazyModule
from shared.records.kinds import MEDIA
from shared.storage_layout import UPLOAD_EVENTS_QUEUE

if TYPE_CHECKING:
    from shared.records import models
    from shared.services import views
else:
    models = LazyModule("shared.records.models")
    views = LazyModule("shared.services.views")

bp = func.Blueprint()
log = logging.getLogger("familystory.media")

COLLECTION = "families/{familyId}/media"
ITEM = f"{COLLECTION}/{{mediaId}}"
RECHECK_SCHEDULE = "0 */2 * * * *"  # a literal: a %SETTING% the app settings lack stops the host
# host.json's queues.maxDequeueCount: the run that fails with this many dequeues is the last one
# before the host moves the message to the poison queue (a test keeps the two equal).
POISON_AFTER = 5


@endpoint(
    bp,
    name="media_create",
    route=COLLECTION,
    methods=["POST"],
    summary="Ask for an upload slot: the media record and a write-only URL for its bytes",
    body=lambda: models.MediaIn,
    response=lambda: models.MediaView,
    status=201,
    tags=("media",),
    location=ITEM,
    example={
        "kind": "photo",
        "contentType": "image/jpeg",
        "sizeBytes": 2400000,
        "fileName": "garden.jpg",
        "caption": "The new garden",
    },
)
def media_create(call: Call) -> Reply:
    made, upload = views.create_media(
        get_runtime(), call.caller, call.route_id("familyId"), call.json(models.MediaIn)
    )
    body = made.document
    if upload is not None:
        body["upload"] = upload
    return call.created(body) if made.created else record_reply(body)


@endpoint(
    bp,
    name="media_list",
    route=COLLECTION,
    methods=["GET"],
    summary="List photos, videos and recordings",
    tags=("media",),
    query=filters(MEDIA),
)
def media_list(call: Call) -> Reply:
    return listed_page(call, MEDIA)


@endpoint(
    bp,
    name="media_get",
    route=ITEM,
    methods=["GET"],
    summary="Read a media record, with short-lived links when it is ready",
    response=lambda: models.MediaView,
    tags=("media",),
)
def media_get(call: Call) -> Reply:
    body = views.read_record(
        get_runtime(), call.caller, MEDIA, call.route_id("familyId"), call.route_id("mediaId")
    )
    if body["status"] == "ready":  # its links expire: a 304 would leave the caller stale ones
        return record_reply(body)
    return not_modified(call, body) or record_reply(body)


@endpoint(
    bp,
    name="media_update",
    route=ITEM,
    methods=["PATCH"],
    summary="Change a caption, visibility or transcript approval (JSON merge patch)",
    body=lambda: models.MediaPatch,
    response=lambda: models.MediaView,
    tags=("media",),
)
def media_update(call: Call) -> Reply:
    return updated(call, MEDIA, "mediaId", models.MediaPatch)


@endpoint(
    bp,
    name="media_delete",
    route=ITEM,
    methods=["DELETE"],
    summary="Delete a media record",
    status=204,
    tags=("media",),
)
def media_delete(call: Call) -> Reply:
    return deleted(call, MEDIA, "mediaId")


@bp.function_name("media_process_upload")
@bp.queue_trigger(arg_name="message", queue_name=UPLOAD_EVENTS_QUEUE, connection="MEDIA_STORAGE")
@traced("datasource")
def media_process_upload(
    message: func.QueueMessage,
    context: func.Context = None,  # type: ignore[assignment]
) -> None:
    """Bad files end ``rejected``; only our own storage or database failing raises, and the
    message is then delivered again (after ``maxDequeueCount`` failures, to the poison queue,
    where the recheck timer's sweep still finds the upload)."""
    from shared.services.media_processing import MediaProcessor, upload_event_blob_name

    name = upload_event_blob_name(message.get_body())
    if name is None:
        log.warning(
            "media: message ignored: not a blob created in uploads",
            extra={"message_id": message.id, "dequeue_count": message.dequeue_count},
        )
        return
    try:
        MediaProcessor(get_runtime()).process(name)
    except Exception:
        if (message.dequeue_count or 0) >= POISON_AFTER:
            log.error(
                "media: upload message goes to the poison queue",
                extra={"message_id": message.id, "dequeue_count": message.dequeue_count},
            )
        raise


@bp.function_name("media_recheck")
@bp.timer_trigger(arg_name="timer", schedule=RECHECK_SCHEDULE)
@traced("timer")
def media_recheck(
    timer: func.TimerRequest,
    context: func.Context = None,  # type: ignore[assignment]
) -> None:
    """Uploads waiting for a malware-scan verdict, attempts that stalled, and uploads whose event
    was lost, go again."""
    from shared.services.media_processing import MediaProcessor

    processor = MediaProcessor(get_runtime())
    outcomes = processor.recheck_due() + processor.sweep_uploads()
    if outcomes:
        log.info("media recheck: %d uploads looked at again", len(outcomes))
