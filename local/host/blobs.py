"""Blob triggers, and the blob-created events Azurite does not raise.

Blob-triggered functions fire when a blob matching the declared path (``container/{name}``,
each ``{token}`` bound to a part of the blob name) appears or changes in Azurite, once per blob
version (by ETag), retried ``BLOB_RETRIES`` times and then given up on. The function gets what
its parameter asks for: a ``BlobClient``, the blob's path, or an ``InputStream``. Receipts are
kept as blobs in ``azure-webjobs-hosts``, as the real host keeps them, so a restart does not
fire again for versions already handled.

Event Grid subscriptions to a container's blob-created events (``local.subscriptions``, the
local stand-in for the Bicep subscriptions) are served the same way: the watcher raises one
``Microsoft.Storage.BlobCreated`` event per blob version, as Azure Storage does, and the local
Event Grid (``eventgrid``) delivers it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import azure.functions as func
from starlette.concurrency import run_in_threadpool

from local.host.app import Triggered, connection_of, triggered_by
from local.host.eventgrid import EventGrid, blob_created_event
from local.host.invoke import invoke_logged
from local.subscriptions import BLOB_CREATED_SUBSCRIPTIONS, BlobCreatedSubscription

log = logging.getLogger("familystory.host")

BLOB_RETRIES = 5


@dataclass(frozen=True)
class BlobFunction(Triggered):
    container: str
    pattern: re.Pattern[str]
    connection: str
    subscription: BlobCreatedSubscription | None = None  # raises events instead of running


def compile_blob_path(path: str) -> tuple[str, re.Pattern[str]]:
    container, _, blob = path.partition("/")
    regex, position = "", 0
    for token in re.finditer(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", blob):
        regex += re.escape(blob[position : token.start()]) + f"(?P<{token.group(1)}>.+?)"
        position = token.end()
    regex += re.escape(blob[position:])
    return container, re.compile(f"^{regex or '.+'}$")


def blob_functions(functions: list[func.Function]) -> list[BlobFunction]:
    found: list[BlobFunction] = []
    for target, trigger in triggered_by("blobTrigger", functions):
        container, pattern = compile_blob_path(str(trigger["path"]))
        found.append(
            BlobFunction(
                target.name,
                target.binding,
                target.function,
                container=container,
                pattern=pattern,
                connection=connection_of(trigger),
            )
        )
    return found


def blob_event_sources(
    subscriptions: tuple[BlobCreatedSubscription, ...] = BLOB_CREATED_SUBSCRIPTIONS,
) -> list[BlobFunction]:
    """The containers whose blob-created events Event Grid subscriptions deliver: the watcher
    raises each event once per blob version, and the local Event Grid delivers it."""
    return [
        BlobFunction(
            name=subscription.name,
            binding="",
            function=lambda: None,
            container=subscription.container,
            pattern=re.compile("^.+$"),
            connection=subscription.connection,
            subscription=subscription,
        )
        for subscription in subscriptions
    ]


def blob_argument(function: BlobFunction, service: Any, blob: Any) -> Any:
    """What the function's blob parameter asks for: a BlobClient, a name, or an InputStream."""
    client = service.get_blob_client(function.container, blob.name)
    annotation = inspect.signature(function.function).parameters[function.binding].annotation
    with contextlib.suppress(Exception):  # PEP 563 string annotations, resolved as the worker does
        annotation = typing.get_type_hints(function.function).get(function.binding, annotation)
    type_name = getattr(annotation, "__name__", str(annotation))
    if type_name == "BlobClient":
        return client
    if annotation is str or type_name == "str":
        return f"{function.container}/{blob.name}"
    return func.blob.InputStream(
        data=client.download_blob().readall(),
        name=f"{function.container}/{blob.name}",
        uri=client.url,
        length=blob.size,
        blob_properties={"ETag": blob.etag, "ContentType": blob.content_settings.content_type},
        metadata=dict(blob.metadata or {}),
    )


def etag_of(blob: Any) -> str:
    return str(blob.etag).strip('"')


class BlobWatcher:
    """Polls Azurite; fires each function once per blob version (by ETag) with retries.

    Receipts are kept as blobs in ``azure-webjobs-hosts`` (as the real host does), so a restart
    does not fire again for versions already handled.
    """

    RECEIPTS = "azure-webjobs-hosts"

    def __init__(
        self,
        functions: list[BlobFunction],
        settings: Mapping[str, str],
        events: EventGrid | None = None,
    ) -> None:
        from azure.storage.blob import BlobServiceClient

        self.functions = functions
        self.events = events
        self.services = {
            f.connection: BlobServiceClient.from_connection_string(settings[f.connection])
            for f in functions
        }
        self.receipts: dict[str, str] = {}

    def _receipt_name(self, function: BlobFunction, blob_name: str) -> str:
        return f"blobreceipts/local/{function.name}/{function.container}/{blob_name}"

    def load_receipts(self) -> None:
        from azure.core.exceptions import ResourceExistsError

        for service in self.services.values():
            with contextlib.suppress(ResourceExistsError):
                service.create_container(self.RECEIPTS)
            receipts = service.get_container_client(self.RECEIPTS)
            for item in receipts.list_blobs(
                name_starts_with="blobreceipts/local/", include=["metadata"]
            ):
                self.receipts[item.name] = (item.metadata or {}).get("etag", "")

    def pending(self) -> list[tuple[BlobFunction, Any, Any]]:
        from azure.core.exceptions import ResourceNotFoundError

        work: list[tuple[BlobFunction, Any, Any]] = []
        for function in self.functions:
            service = self.services[function.connection]
            container = service.get_container_client(function.container)
            try:
                blobs = list(container.list_blobs(include=["metadata"]))
            except ResourceNotFoundError:
                continue
            for blob in blobs:
                if not function.pattern.match(blob.name):
                    continue
                etag = etag_of(blob)
                if self.receipts.get(self._receipt_name(function, blob.name)) != etag:
                    work.append((function, service, blob))
        return work

    def write_receipt(self, function: BlobFunction, service: Any, blob: Any, outcome: str) -> None:
        name = self._receipt_name(function, blob.name)
        etag = etag_of(blob)
        service.get_blob_client(self.RECEIPTS, name).upload_blob(
            b"", overwrite=True, metadata={"etag": etag, "outcome": outcome}
        )
        self.receipts[name] = etag

    async def fire(self, function: BlobFunction, service: Any, blob: Any) -> None:
        if function.subscription is not None:
            await self.raise_event(function, function.subscription, service, blob)
            return
        for attempt in range(1, BLOB_RETRIES + 1):
            try:
                argument = await run_in_threadpool(blob_argument, function, service, blob)
            except Exception:
                log.exception("%s: cannot read %s", function.name, blob.name)
                return
            if await invoke_logged(function, argument):
                await run_in_threadpool(self.write_receipt, function, service, blob, "succeeded")
                return
            await asyncio.sleep(min(2**attempt * 0.25, 4))
        log.error("%s: giving up on %s after %d attempts", function.name, blob.name, BLOB_RETRIES)
        await run_in_threadpool(self.write_receipt, function, service, blob, "poisoned")

    async def raise_event(
        self,
        function: BlobFunction,
        subscription: BlobCreatedSubscription,
        service: Any,
        blob: Any,
    ) -> None:
        """As Azure Storage does: one ``BlobCreated`` event for the version, to Event Grid."""
        assert self.events is not None, "blob-created subscriptions need the local Event Grid"
        url = service.get_blob_client(function.container, blob.name).url
        event = blob_created_event(
            function.container,
            blob.name,
            url,
            etag_of(blob),
            int(blob.size),
            blob.content_settings.content_type,
        )
        self.events.publish(subscription, event)
        await run_in_threadpool(self.write_receipt, function, service, blob, "raised")

    async def run(self, interval: float = 1.0) -> None:
        await run_in_threadpool(self.load_receipts)
        while True:
            try:
                work = await run_in_threadpool(self.pending)
            except Exception:  # noqa: BLE001 - Azurite down: keep polling until it returns
                log.warning("blob watcher cannot reach storage; retrying")
                work = []
            for function, service, blob in work:
                await self.fire(function, service, blob)
            await asyncio.sleep(interval)
