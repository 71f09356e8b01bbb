"""The Event Grid subscriptions the local host stands in for.

In Azure, an Event Grid subscription (Bicep, ``infra/app/upload-events.bicep``) delivers the
``Microsoft.Storage.BlobCreated`` events of a container to an Event Grid-triggered function.
Azurite raises no events, so the local host's blob watcher raises them instead, for the
containers listed here. ``tests/infra`` checks that the Bicep subscribes the same function to
the same container and event type.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.storage_layout import UPLOADS_CONTAINER


@dataclass(frozen=True)
class BlobCreatedSubscription:
    function: str  # the Event Grid-triggered function that receives the events
    container: str  # whose new and overwritten blobs raise them
    connection: str  # the setting holding that storage account's connection string


BLOB_CREATED_SUBSCRIPTIONS = (
    BlobCreatedSubscription("media_process_upload", UPLOADS_CONTAINER, "MEDIA_STORAGE"),
)
