"""Uploads under Event Grid's delivery rules: the local host's Event Grid puts each blob-created
event on a Storage queue in Azurite, and its queue listener runs the real
``media_process_upload`` on it, with the host's message lease, retries and poison queue.

Every wait is compressed (``SCALE``): Event Grid's 30 s answer limit becomes 30 ms, the host's
10-minute message lease 1 s, host.json's 30 s retry delay nothing. Each test has its own queue.
"""

from __future__ import annotations

import asyncio
import base64
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ServiceRequestError
from azure.storage.blob import BlobLeaseClient
from azure.storage.queue import QueueClient

from functions import media
from local.emulators import Emulators
from local.host.eventgrid import DeliveryRules, EventGrid, blob_created_event
from local.host.http import build_asgi
from local.host.invoke import invoke_logged
from local.host.queues import QueueFunction, QueueListener, QueueOptions
from local.subscriptions import BlobCreatedSubscription, QueueDestination
from shared import media as media_pipeline
from shared.adapters.blob_media import ContainerSink
from shared.bootstrap import get_runtime
from shared.storage_layout import UPLOADS_CONTAINER
from tests.functional.media.test_media_flow import fetch, put, slot
from tests.functional.world import World
from tests.unit.media import samples

SCALE = 0.001
OPTIONS = replace(QueueOptions.from_host_json(), time_scale=SCALE)


class Killed(BaseException):
    """The worker process dying mid-run: nothing in the host or the app catches it."""


class Delivery:
    """The local Event Grid and one queue listener running the real function, on a new queue."""

    def __init__(
        self, settings: dict[str, str], duplicates: float = 0.0, grid_scale: float = SCALE
    ) -> None:
        self.queue = f"test-uploads-{uuid.uuid4().hex[:12]}"
        self.connection = settings["MEDIA_STORAGE"]
        QueueClient.from_connection_string(self.connection, self.queue).create_queue()
        self.subscription = BlobCreatedSubscription(
            name="media-process-upload",
            container=UPLOADS_CONTAINER,
            connection="MEDIA_STORAGE",
            destination=QueueDestination(self.queue, "MEDIA_STORAGE"),
            dead_letter_container="upload-events-deadletter",
            dead_letter_connection="MEDIA_STORAGE",
        )
        _, webhook = build_asgi([])
        rules = DeliveryRules(time_scale=grid_scale, duplicate_share=duplicates)
        self.grid = EventGrid(webhook, settings, rules)
        function = QueueFunction(
            name="media_process_upload",
            queue=self.queue,
            connection="MEDIA_STORAGE",
            binding="message",
            function=media.media_process_upload.build().get_user_function(),
        )
        self.listener = QueueListener(function, settings, OPTIONS, invoke_logged)
        self.poison = QueueClient.from_connection_string(self.connection, f"{self.queue}-poison")

    def run_until(self, done: Callable[[], bool], *events: dict[str, Any]) -> None:
        async def run() -> None:
            listening = asyncio.create_task(self.listener.run())
            for event in events:
                self.grid.publish(self.subscription, event)
            deadline = time.monotonic() + 60
            try:
                while not done():
                    assert time.monotonic() < deadline, "the upload was not settled in time"
                    await asyncio.sleep(0.05)
                await self.grid.drain()
                while self.listener.running:  # let late duplicates settle too
                    await asyncio.sleep(0.05)
            finally:
                listening.cancel()
                await asyncio.gather(listening, return_exceptions=True)

        asyncio.run(run())

    def poisoned(self) -> int:
        return sum(1 for _ in self.poison.peek_messages(max_messages=32)) if self.exists() else 0

    def exists(self) -> bool:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            self.poison.get_queue_properties()
        except ResourceNotFoundError:
            return False
        return True


@pytest.fixture
def settings(stack: Emulators, base_settings: dict[str, str]) -> dict[str, str]:
    return {**base_settings, **stack.settings()}


@pytest.fixture
def uploaded(world: World, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    """A photo PUT to its slot, and the blob-created event Azure Storage raises for it."""
    data = samples.jpeg_with_gps(tmp_path / "photo.jpg", size=(400, 300)).read_bytes()
    made = slot(world, "social_worker", {"kind": "photo", "contentType": "image/jpeg",
                                         "sizeBytes": len(data)})  # fmt: skip
    assert put(made["upload"], data).status_code == 201
    name = f"{world.family}/{made['id']}"
    blob = get_runtime().blob_service.get_blob_client(UPLOADS_CONTAINER, name)
    properties = blob.get_blob_properties()
    event = blob_created_event(
        UPLOADS_CONTAINER,
        name,
        blob.url,
        str(properties.etag).strip('"'),
        int(properties.size),
        "image/jpeg",
    )
    return made["id"], event


def settled(world: World, media_id: str) -> Callable[[], bool]:
    return lambda: fetch(world, media_id)["status"] in ("ready", "rejected")


def count_pipeline_runs(monkeypatch: pytest.MonkeyPatch, delay: float = 0.0) -> list[str]:
    """Each run of the processing pipeline, made ``delay`` seconds slower."""
    runs: list[str] = []
    original = media_pipeline.process_upload

    def counted(*args: Any, **kwargs: Any) -> Any:
        runs.append(threading.current_thread().name)
        time.sleep(delay)
        return original(*args, **kwargs)

    monkeypatch.setattr(media_pipeline, "process_upload", counted)
    return runs


def test_a_run_longer_than_event_grids_answer_limit_ends_ready_exactly_once(
    world: World,
    settings: dict[str, str],
    uploaded: tuple[str, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    media_id, event = uploaded
    grid_scale = 0.05  # a 1.5 s answer limit: ample for Azurite to take a message, on a busy day
    runs = count_pipeline_runs(monkeypatch, delay=30 * grid_scale * 2)
    delivery = Delivery(settings, grid_scale=grid_scale)

    delivery.run_until(settled(world, media_id), event)

    record = fetch(world, media_id)
    assert record["status"] == "ready"
    assert len(runs) == 1
    (outcome,) = delivery.grid.outcomes
    assert outcome.statuses == [201], "the queue answered at once: no redelivery"
    assert delivery.poisoned() == 0


def test_duplicate_deliveries_racing_process_the_upload_once(
    world: World,
    settings: dict[str, str],
    uploaded: tuple[str, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Event Grid delivers the event twice (and once more as a duplicate): three messages, taken
    in one batch and run at the same time. One takes the lease; the others count nothing."""
    media_id, event = uploaded
    runs = count_pipeline_runs(monkeypatch, delay=0.3)
    delivery = Delivery(settings, duplicates=1.0)
    before = get_runtime().records.read(world.family, media_id)
    assert before is not None

    delivery.run_until(settled(world, media_id), event, event)

    assert fetch(world, media_id)["status"] == "ready"
    assert len(runs) == 1
    assert sum(o.duplicated for o in delivery.grid.outcomes) == 2
    assert delivery.poisoned() == 0


def test_a_run_killed_midway_is_finished_by_the_next_delivery(
    world: World,
    settings: dict[str, str],
    uploaded: tuple[str, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The worker dies after writing a derivative: its message stays hidden until the host's
    lease on it lapses, and its lease on the upload lapses (broken here); the message comes back
    and the second attempt finishes the upload."""
    media_id, event = uploaded
    original = ContainerSink.write
    killed: list[str] = []

    def die_once(self: ContainerSink, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        if not killed:
            killed.append(media_id)
            upload = get_runtime().blob_service.get_blob_client(
                UPLOADS_CONTAINER, f"{world.family}/{media_id}"
            )
            BlobLeaseClient(upload).break_lease(lease_break_period=0)
            raise Killed
        return result

    monkeypatch.setattr(ContainerSink, "write", die_once)
    delivery = Delivery(settings)

    delivery.run_until(settled(world, media_id), event)

    assert killed == [media_id]
    record = fetch(world, media_id)
    assert record["status"] == "ready"
    assert delivery.poisoned() == 0


def test_a_file_that_keeps_failing_ends_rejected_after_the_allowed_attempts(
    world: World,
    settings: dict[str, str],
    uploaded: tuple[str, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every run fails on our own storage: each is counted, the message comes back after
    host.json's visibilityTimeout, and the run after ``MEDIA_MAX_ATTEMPTS`` rejects the upload,
    before the queue's ``maxDequeueCount`` would poison the message."""
    media_id, event = uploaded

    def storage_down(*args: object, **kwargs: object) -> None:
        raise ServiceRequestError("derivatives unavailable")

    monkeypatch.setattr(ContainerSink, "write", storage_down)
    runs = count_pipeline_runs(monkeypatch)
    delivery = Delivery(settings)

    delivery.run_until(settled(world, media_id), event)

    record = fetch(world, media_id)
    assert record["status"] == "rejected"
    assert "after 3 attempts" in record["rejectedReason"]
    assert len(runs) == get_runtime().settings.media_max_attempts == 3
    assert OPTIONS.max_dequeue_count > 3
    assert delivery.poisoned() == 0


def test_a_message_that_keeps_failing_is_moved_to_the_poison_queue(
    settings: dict[str, str], stack: Emulators
) -> None:
    delivery = Delivery(settings)
    queue = QueueClient.from_connection_string(delivery.connection, delivery.queue)
    queue.send_message("this is not base64!")

    delivery.run_until(lambda: delivery.poisoned() == 1)

    assert delivery.poisoned() == 1
    assert list(queue.peek_messages()) == []
    (moved,) = delivery.poison.peek_messages()
    assert moved.content == "this is not base64!"


def test_a_message_is_base64_as_event_grid_writes_it(
    settings: dict[str, str], stack: Emulators
) -> None:
    delivery = Delivery(settings)
    event = {"id": "e-1", "eventType": "Microsoft.Storage.BlobCreated", "subject": "x"}
    assert delivery.grid.enqueue(delivery.subscription.destination, event) == 201  # type: ignore[arg-type]

    queue = QueueClient.from_connection_string(delivery.connection, delivery.queue)
    (message,) = queue.peek_messages()
    assert base64.b64decode(message.content, validate=True).startswith(b'{"id": "e-1"')
