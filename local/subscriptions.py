"""The Event Grid subscriptions the local host stands in for.

In Azure, Event Grid system topics deliver events to the app (``infra/app/upload-events.bicep``
puts the ``uploads`` container's ``Microsoft.Storage.BlobCreated`` events on a Storage queue).
Azurite raises no events, so the local host raises them for the containers listed here and
delivers them as Event Grid does (``local.host.eventgrid``). ``tests/infra`` checks that the
Bicep subscribes the same container and event type to the same destination.
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
class EventSubscription:
    name: str
    destination: FunctionDestination | QueueDestination
    dead_letter_container: str
    dead_letter_connection: str  # the setting naming the account that holds the container


@dataclass(frozen=True)
class BlobCreatedSubscription(EventSubscription):
    container: str  # whose new and overwritten blobs raise the events
    connection: str  # the setting holding the source storage account's connection string


BLOB_CREATED_SUBSCRIPTIONS = (
    BlobCreatedSubscription(
        name="media-process-upload",
        container=UPLOADS_CONTAINER,
        connection="MEDIA_STORAGE",
        destination=QueueDestination(UPLOAD_EVENTS_QUEUE, "MEDIA_STORAGE"),
        dead_letter_container="upload-events-deadletter",
        dead_letter_connection="MEDIA_STORAGE",
    ),
)

SMS_DELIVERY_REPORTS = EventSubscription(
    name="sms-delivery-reports",
    destination=FunctionDestination("reminders_delivery_report"),
    dead_letter_container="sms-events-deadletter",
    dead_letter_connection="MEDIA_STORAGE",
)
"""``infra/app/delivery-reports.bicep``: Communication Services' SMS delivery reports. Nothing
raises them locally; tests publish them to the local Event Grid."""
