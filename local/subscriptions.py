"""The Event Grid subscriptions the local host stands in for.

In Azure, Event Grid system topics deliver events to the app (``infra/app/upload-events.bicep``
puts the ``uploads`` container's ``Microsoft.Storage.BlobCreated`` events on a Storage queue).
Azurite raises no events, so the local host raises them for the containers listed here and
delivers them as Event Grid does (``local.eventgrid``). ``tests/infra`` checks that the Bicep
subscribes the same container and event type to the same destination.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.storage_layout import UPLOAD_EVENTS_QUEUE, UPLOADS_CONTAINER

BLOB_CREATED = "Microsoft.Storage.BlobCreated"


@dataclass(frozen=True)
class FunctionDestination:
    """Endpoint type ``AzureFunction``: an Event Grid-triggered function of the app."""

    function: str


@dataclass(frozen=True)
class QueueDestination:
    """Endpoint type ``StorageQueue``: each event, as JSON, base64-encoded, one per message."""

    queue: str
    connection: str  # the setting holding that storage account's connection string


@dataclass(frozen=True)
class BlobCreatedSubscription:
    name: str
    container: str  # whose new and overwritten blobs raise the events
    connection: str  # the setting holding the source storage account's connection string
    destination: FunctionDestination | QueueDestination
    dead_letter_container: str  # in the source account, as the Bicep's dead-letter destination


BLOB_CREATED_SUBSCRIPTIONS = (
    BlobCreatedSubscription(
        name="media-process-upload",
        container=UPLOADS_CONTAINER,
        connection="MEDIA_STORAGE",
        destination=QueueDestination(UPLOAD_EVENTS_QUEUE, "MEDIA_STORAGE"),
        dead_letter_container="upload-events-deadletter",
    ),
)
