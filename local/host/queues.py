"""Storage queue triggers, run against Azurite's queues the way the Functions host runs them.

From the Storage queues extension (``QueueListener``/``QueueProcessor`` in Azure/azure-sdk-for-net,
and learn.microsoft.com "Azure Queue storage trigger" and its ``host.json`` settings):

- messages are taken up to ``batchSize`` (16) at a time and hidden for 10 minutes
  (``HOST_LEASE_SECONDS``), a lease the host renews at half time while the function runs; a
  host that dies stops renewing, so its messages come back when the lease lapses;
- a message body is base64-decoded before the function sees it (``messageEncoding``, default
  ``base64``); a body that is not base64 fails like a failed run;
- a run that succeeds deletes its message; one that fails makes it visible again after
  ``visibilityTimeout`` (0 by default), unless it has been dequeued ``maxDequeueCount`` times
  (5), when it is moved to ``<queue>-poison``;
- an empty queue is polled less and less often, up to ``maxPollingInterval`` (1 min).

``LOCAL_HOST_TIME_SCALE`` multiplies each of these times (Azurite counts whole seconds).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import azure.functions as func
from starlette.concurrency import run_in_threadpool

from local.host.app import (
    HOST_JSON,
    Triggered,
    connection_of,
    extension_settings,
    resolve_setting_expressions,
    triggered_by,
)
from local.host.invoke import Invoke

log = logging.getLogger("familystory.host")

HOST_LEASE_SECONDS = 600
POISON_SUFFIX = "-poison"
TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$")


def timespan_seconds(value: Any) -> float:
    """A ``host.json`` TimeSpan (``"00:00:30"``, ``"1.00:00:00"``) or milliseconds, in seconds."""
    if isinstance(value, int | float):
        return float(value) / 1000
    matched = TIMESPAN.match(str(value))
    if matched is None:
        raise ValueError(f"{value!r} is not a TimeSpan")
    days, hours, minutes, seconds, fraction = matched.groups()
    total = int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + int(seconds)
    return total + (float(f"0.{fraction}") if fraction else 0.0)


@dataclass(frozen=True)
class QueueOptions:
    """``extensions.queues`` of ``host.json``, with the extension's defaults."""

    batch_size: int = 16
    max_dequeue_count: int = 5
    visibility_timeout: float = 0.0
    max_polling_interval: float = 60.0
    message_encoding: str = "base64"
    time_scale: float = 1.0

    @classmethod
    def from_host_json(cls, path: Path = HOST_JSON, time_scale: float = 1.0) -> QueueOptions:
        queues = extension_settings("queues", path)
        options = cls(
            batch_size=int(queues.get("batchSize", 16)),
            max_dequeue_count=int(queues.get("maxDequeueCount", 5)),
            visibility_timeout=timespan_seconds(queues.get("visibilityTimeout", "00:00:00")),
            max_polling_interval=timespan_seconds(queues.get("maxPollingInterval", 60000)),
            message_encoding=str(queues.get("messageEncoding", "base64")).lower(),
            time_scale=time_scale,
        )
        if not 1 <= options.batch_size <= 32:
            raise ValueError("host.json: queues.batchSize must be 1 to 32")
        if options.message_encoding not in ("base64", "none"):
            raise ValueError("host.json: queues.messageEncoding must be base64 or none")
        return options

    def whole_seconds(self, seconds: float) -> int:
        return max(0, round(seconds * self.time_scale))


@dataclass(frozen=True)
class QueueFunction(Triggered):
    queue: str
    connection: str


def queue_functions(
    functions: list[func.Function], settings: Mapping[str, str]
) -> list[QueueFunction]:
    return [
        QueueFunction(
            target.name,
            target.binding,
            target.function,
            queue=resolve_setting_expressions(str(trigger["queueName"]), settings),
            connection=connection_of(trigger),
        )
        for target, trigger in triggered_by("queueTrigger", functions)
    ]


def provision_queues(connection_string: str, names: tuple[str, ...]) -> None:
    """Create the queues (local emulators only; Bicep creates them in Azure)."""
    from azure.core.exceptions import ResourceExistsError
    from azure.storage.queue import QueueServiceClient

    service = QueueServiceClient.from_connection_string(connection_string)
    for name in names:
        with contextlib.suppress(ResourceExistsError):
            service.create_queue(name)


class DecodeError(ValueError):
    """A message body the host cannot decode."""


class QueueListener:
    """Runs one queue-triggered function on the messages of its queue."""

    def __init__(
        self,
        function: QueueFunction,
        settings: Mapping[str, str],
        options: QueueOptions,
        invoke: Invoke,
    ) -> None:
        from azure.storage.queue import QueueClient

        connection = settings[function.connection]
        self.function = function
        self.options = options
        self.invoke = invoke
        self.queue = QueueClient.from_connection_string(connection, function.queue)
        self.poison = QueueClient.from_connection_string(connection, function.queue + POISON_SUFFIX)
        self.running: set[asyncio.Task[None]] = set()

    @property
    def lease(self) -> int:
        return max(1, self.options.whole_seconds(HOST_LEASE_SECONDS))

    async def run(self) -> None:
        idle = 0.1 * self.options.time_scale
        ceiling = max(self.options.max_polling_interval * self.options.time_scale, 0.05)
        while True:
            room = self.options.batch_size - len(self.running)
            messages: list[Any] = []
            if room > 0:
                try:
                    messages = await run_in_threadpool(self.receive, room)
                except Exception:  # noqa: BLE001 - Azurite down: keep polling until it returns
                    log.warning("queue %s cannot be read; retrying", self.function.queue)
            for message in messages:
                task = asyncio.create_task(self.handle(message))
                self.running.add(task)
                task.add_done_callback(self.running.discard)
            if messages:
                idle = 0.1 * self.options.time_scale
                await asyncio.sleep(0)
                continue
            await asyncio.sleep(max(idle, 0.05))
            idle = min(idle * 2, ceiling)

    def receive(self, count: int) -> list[Any]:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return list(
                self.queue.receive_messages(
                    messages_per_page=count, max_messages=count, visibility_timeout=self.lease
                )
            )
        except ResourceNotFoundError:
            return []

    def decode(self, content: str) -> bytes:
        if self.options.message_encoding == "none":
            return content.encode()
        try:
            return base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError) as error:
            raise DecodeError("the message is not base64, as messageEncoding says") from error

    async def handle(self, message: Any) -> None:
        renewing = asyncio.create_task(self.keep_hidden(message))
        try:
            try:
                body = self.decode(message.content)
            except DecodeError as error:
                log.error("%s: %s (message %s)", self.function.name, error, message.id)
                succeeded = False
            else:
                argument = func.queue.QueueMessage(
                    id=message.id,
                    body=body,
                    dequeue_count=message.dequeue_count,
                    expiration_time=message.expires_on,
                    insertion_time=message.inserted_on,
                    time_next_visible=message.next_visible_on,
                    pop_receipt=message.pop_receipt,
                )
                succeeded = await self.invoke(self.function, argument)
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
        try:
            await run_in_threadpool(self.settle, message, succeeded)
        except Exception:  # the lease lapses and the message comes back
            log.exception("%s: could not settle message %s", self.function.name, message.id)

    async def keep_hidden(self, message: Any) -> None:
        while True:
            await asyncio.sleep(self.lease / 2)
            updated = await run_in_threadpool(
                self.queue.update_message,
                message,
                message.pop_receipt,
                visibility_timeout=self.lease,
            )
            message.pop_receipt = updated.pop_receipt

    def settle(self, message: Any, succeeded: bool) -> None:
        if succeeded:
            self.queue.delete_message(message.id, message.pop_receipt)
            return
        if message.dequeue_count >= self.options.max_dequeue_count:
            from azure.core.exceptions import ResourceExistsError

            with contextlib.suppress(ResourceExistsError):
                self.poison.create_queue()
            self.poison.send_message(message.content)
            self.queue.delete_message(message.id, message.pop_receipt)
            log.error(
                "%s: message %s failed %d times; moved to %s",
                self.function.name,
                message.id,
                message.dequeue_count,
                self.poison.queue_name,
            )
            return
        self.queue.update_message(
            message,
            message.pop_receipt,
            visibility_timeout=self.options.whole_seconds(self.options.visibility_timeout),
        )
