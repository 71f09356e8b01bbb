"""Event Grid, as the local host imitates it: the trigger's webhook, and delivery.

The webhook. The real host serves Event Grid-triggered functions at
``/runtime/webhooks/eventgrid?functionName=<name>`` and asks for its ``eventgrid_extension``
system key (``code`` in the query, or ``x-functions-key``); so does this one (``host_keys``).
A body of events answers ``202`` once every event ran, ``500`` if one failed, ``400`` for a
body that holds no events, ``401`` without the key; the subscription validation handshake is
answered too, so a developer can deliver an event by hand.

Delivery (``EventGrid``), for the subscriptions in ``local.subscriptions``, as the service's
documentation describes it (learn.microsoft.com, "Event Grid message delivery and retry"):

- an answer is awaited ``ANSWER_SECONDS`` (30 s); after that the delivery counts as failed and
  is retried, while the function goes on running, as it does in Azure;
- failures are retried on Event Grid's schedule (10 s, 30 s, 1 min, 5 min, 10 min, 30 min, 1 h,
  3 h, 6 h, then every 12 h), up to 30 attempts within 24 h; ``400``, ``401``, ``403`` and
  ``413`` are not retried;
- an event that is not delivered is dead-lettered: written, with its reason, attempts and last
  outcome, as a JSON array to the subscription's dead-letter container, under
  ``<subscription>/<yyyy>/<mm>/<dd>/<hh>/<id>.json``;
- delivery is at least once: a delivered event is, now and then, delivered again
  (``LOCAL_EVENTGRID_DUPLICATES``, the share of deliveries repeated; 0.05 by default);
- a ``StorageQueue`` destination gets each event alone, as JSON, base64-encoded, one message
  per event.

``LOCAL_HOST_TIME_SCALE`` (default 1) multiplies every wait here and in ``queues``, so
tests can run Event Grid's schedule in seconds. What it cannot imitate: Event Grid keeps
pending retries across restarts of the host; this stand-in keeps them in memory.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import json
import logging
import os
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import azure.functions as func
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from local.config import STATE
from local.host.app import Triggered, triggered_by
from local.host.invoke import Invoke
from local.subscriptions import EventSubscription, FunctionDestination, QueueDestination

log = logging.getLogger("familystory.host")

EVENT_GRID_PATH = "/runtime/webhooks/eventgrid"
SUBSCRIPTION_VALIDATION = "Microsoft.EventGrid.SubscriptionValidationEvent"
SYSTEM_KEY_NAME = "eventgrid_extension"
KEYS_FILE_SETTING = "LOCAL_HOST_KEYS_FILE"

ANSWER_SECONDS = 30.0
RETRY_SCHEDULE_SECONDS = (10, 30, 60, 300, 600, 1800, 3600, 10800, 21600)
RETRY_AFTER_SCHEDULE_SECONDS = 43200
MAX_DELIVERY_ATTEMPTS = 30
EVENT_TIME_TO_LIVE_SECONDS = 24 * 3600
NOT_RETRIED = frozenset({400, 401, 403, 413})
DELIVERED = frozenset({200, 201, 202, 203, 204})
TIMED_OUT = 408
DEFAULT_DUPLICATE_SHARE = 0.05
JITTER = secrets.SystemRandom()


# --- keys -------------------------------------------------------------------------------------


def keys_path(environ: Mapping[str, str] = os.environ) -> Path:
    return Path(environ.get(KEYS_FILE_SETTING) or STATE / "host-keys.json")


def host_keys(path: Path) -> dict[str, str]:
    """The host's master key and its ``eventgrid_extension`` system key, made on first use and
    kept (mode 600) beside the emulators' data, as Core Tools keeps its keys; never committed."""
    with contextlib.suppress(FileNotFoundError, ValueError):
        stored = json.loads(path.read_text())
        if isinstance(stored, dict) and all(
            isinstance(stored.get(k), str) for k in ("masterKey", SYSTEM_KEY_NAME)
        ):
            return {k: str(v) for k, v in stored.items()}
    keys = {"masterKey": secrets.token_urlsafe(32), SYSTEM_KEY_NAME: secrets.token_urlsafe(32)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(json.dumps(keys, indent=2))
    return keys


def presented_key(request: Request) -> str:
    return request.headers.get("x-functions-key") or request.query_params.get("code") or ""


# --- the webhook ------------------------------------------------------------------------------


def event_grid_functions(functions: list[func.Function]) -> list[Triggered]:
    return [target for target, _ in triggered_by("eventGridTrigger", functions)]


class BadEventError(ValueError):
    """Not an Event Grid or CloudEvents event."""


def event_grid_event(document: Any) -> func.EventGridEvent:
    """An event in the Event Grid schema or CloudEvents 1.0, as the trigger hands it over."""
    if not isinstance(document, dict):
        raise BadEventError("each event must be a JSON object")
    cloud = "specversion" in document
    event_id = document.get("id")
    event_type = document.get("type" if cloud else "eventType")
    if not isinstance(event_id, str) or not isinstance(event_type, str):
        raise BadEventError("an event needs a string id and " + ("type" if cloud else "eventType"))
    data = document.get("data")
    when = document.get("time" if cloud else "eventTime")
    event_time = None
    if isinstance(when, str):
        with contextlib.suppress(ValueError):
            event_time = datetime.fromisoformat(when)
    return func.EventGridEvent(
        id=event_id,
        data=data if isinstance(data, dict) else {},
        topic=str(document.get("source" if cloud else "topic") or ""),
        subject=str(document.get("subject") or ""),
        event_type=event_type,
        event_time=event_time,
        data_version=str(document.get("specversion" if cloud else "dataVersion") or ""),
    )


Problem = Callable[[int, str, str], Response]


class EventGridWebhook:
    """``/runtime/webhooks/eventgrid``: over HTTP (``handle``) and for local delivery
    (``deliver``), through the same checks."""

    def __init__(
        self,
        functions: list[Triggered],
        keys: Mapping[str, str],
        invoke: Invoke,
        problem: Problem,
    ) -> None:
        self.functions = {f.name.lower(): f for f in functions}
        self.accepted = [keys[k] for k in ("masterKey", SYSTEM_KEY_NAME) if keys.get(k)]
        self.invoke = invoke
        self.problem = problem

    def authorised(self, key: str) -> bool:
        return any(hmac.compare_digest(key.encode(), known.encode()) for known in self.accepted)

    async def handle(self, request: Request) -> Response:
        if not self.authorised(presented_key(request)):
            return Response(status_code=401)
        name = request.query_params.get("functionName", "")
        function = self.functions.get(name.lower())
        if function is None:
            return self.problem(404, "Not found", f"No Event Grid function is named {name!r}.")
        if request.method == "OPTIONS":
            origin = request.headers.get("webhook-request-origin", "*")
            return Response(status_code=200, headers={"WebHook-Allowed-Origin": origin})
        if request.method != "POST":
            return self.problem(405, "Method not allowed", "Deliver events with POST.")
        try:
            body = json.loads(await request.body())
        except (UnicodeDecodeError, json.JSONDecodeError):
            return self.problem(400, "Bad request", "The body is not JSON.")
        documents = body if isinstance(body, list) else [body]
        validation = self.validation_response(request.headers, documents)
        if validation is not None:
            return validation
        return await self.run(function, documents)

    async def deliver(self, function_name: str, documents: list[Any]) -> int:
        """One delivery by the local Event Grid: the status the webhook answers."""
        function = self.functions.get(function_name.lower())
        if function is None:
            return 404
        return (await self.run(function, documents)).status_code

    async def run(self, function: Triggered, documents: list[Any]) -> Response:
        try:
            events = [event_grid_event(document) for document in documents]
        except BadEventError as error:
            return self.problem(400, "Bad request", str(error))
        for event in events:
            if not await self.invoke(function, event):
                return self.problem(500, "Internal server error", f"{function.name} failed.")
        return Response(status_code=202)

    def validation_response(
        self, headers: Mapping[str, str], documents: list[Any]
    ) -> Response | None:
        first = documents[0] if documents and isinstance(documents[0], dict) else {}
        handshake = headers.get("aeg-event-type", "").lower() == "subscriptionvalidation"
        if not handshake and first.get("eventType") != SUBSCRIPTION_VALIDATION:
            return None
        data = first.get("data")
        code = data.get("validationCode") if isinstance(data, dict) else None
        if not isinstance(code, str):
            return self.problem(400, "Bad request", "A subscription validation needs its code.")
        body = json.dumps({"validationResponse": code})
        return Response(body, 200, media_type="application/json")


# --- delivery ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryRules:
    answer_seconds: float = ANSWER_SECONDS
    max_attempts: int = MAX_DELIVERY_ATTEMPTS
    time_to_live_seconds: float = EVENT_TIME_TO_LIVE_SECONDS
    time_scale: float = 1.0
    duplicate_share: float = DEFAULT_DUPLICATE_SHARE

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> DeliveryRules:
        return cls(
            time_scale=float(environ.get("LOCAL_HOST_TIME_SCALE") or 1.0),
            duplicate_share=float(
                environ.get("LOCAL_EVENTGRID_DUPLICATES") or DEFAULT_DUPLICATE_SHARE
            ),
        )

    def retry_delay(self, attempt: int) -> float:
        """Seconds before the attempt after ``attempt`` (1-based), with Event Grid's jitter."""
        index = attempt - 1
        base = (
            RETRY_SCHEDULE_SECONDS[index]
            if index < len(RETRY_SCHEDULE_SECONDS)
            else RETRY_AFTER_SCHEDULE_SECONDS
        )
        return base * JITTER.uniform(0.9, 1.1) * self.time_scale

    def scaled(self, seconds: float) -> float:
        return seconds * self.time_scale


@dataclass
class Outcome:
    """What became of one published event, for the log and for tests."""

    subscription: str
    event_id: str
    attempts: int = 0
    statuses: list[int] | None = None
    delivered: bool = False
    duplicated: bool = False
    dead_lettered: str | None = None  # the reason


class EventGrid:
    """Publishes events to subscriptions and delivers them as Event Grid does."""

    def __init__(
        self,
        webhook: EventGridWebhook,
        storage: Mapping[str, Any],
        rules: DeliveryRules,
    ) -> None:
        self.webhook = webhook
        self.storage = storage  # connection setting name -> connection string
        self.rules = rules
        self.outcomes: list[Outcome] = []
        self.tasks: set[asyncio.Task[None]] = set()

    def publish(self, subscription: EventSubscription, event: dict[str, Any]) -> None:
        task = asyncio.create_task(self.deliver(subscription, event))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def drain(self) -> None:
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def deliver(self, subscription: EventSubscription, event: dict[str, Any]) -> None:
        outcome = Outcome(subscription.name, str(event.get("id")), statuses=[])
        self.outcomes.append(outcome)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.rules.scaled(self.rules.time_to_live_seconds)
        while True:
            outcome.attempts += 1
            status = await self.attempt(subscription, event)
            assert outcome.statuses is not None
            outcome.statuses.append(status)
            if status in DELIVERED:
                outcome.delivered = True
                break
            reason = self.give_up_reason(status, outcome.attempts, loop.time(), deadline)
            if reason:
                outcome.dead_lettered = reason
                await run_in_threadpool(self.dead_letter, subscription, event, outcome, status)
                return
            log.warning(
                "event grid: %s delivery %d of %s failed (%s); retrying",
                subscription.name,
                outcome.attempts,
                outcome.event_id,
                status,
            )
            await asyncio.sleep(self.rules.retry_delay(outcome.attempts))
        if JITTER.random() < self.rules.duplicate_share:
            outcome.duplicated = True
            await asyncio.sleep(self.rules.scaled(JITTER.uniform(0.0, 1.0)))
            log.info("event grid: %s delivers %s again", subscription.name, outcome.event_id)
            await self.attempt(subscription, event)

    def give_up_reason(self, status: int, attempts: int, now: float, deadline: float) -> str:
        if status in NOT_RETRIED:
            return f"the destination answered {status}, which Event Grid does not retry"
        if attempts >= self.rules.max_attempts:
            return "MaxDeliveryAttemptExceeded"
        if now >= deadline:
            return "TimeToLiveExceeded"
        return ""

    async def attempt(self, subscription: EventSubscription, event: dict[str, Any]) -> int:
        destination = subscription.destination
        if isinstance(destination, FunctionDestination):
            call = asyncio.ensure_future(self.webhook.deliver(destination.function, [event]))
        else:
            call = asyncio.ensure_future(run_in_threadpool(self.enqueue, destination, event))
        try:
            # Event Grid stops waiting; the function does not stop running.
            return await asyncio.wait_for(
                asyncio.shield(call), self.rules.scaled(self.rules.answer_seconds)
            )
        except TimeoutError:
            return TIMED_OUT

    def enqueue(self, destination: QueueDestination, event: dict[str, Any]) -> int:
        from azure.core.exceptions import AzureError
        from azure.storage.queue import QueueClient

        queue = QueueClient.from_connection_string(
            self.storage[destination.connection], destination.queue
        )
        content = base64.b64encode(json.dumps(event).encode()).decode()
        try:
            queue.send_message(content)
        except AzureError as error:
            status = getattr(error, "status_code", None)
            return int(status) if isinstance(status, int) else 503
        return 201

    def dead_letter(
        self,
        subscription: EventSubscription,
        event: dict[str, Any],
        outcome: Outcome,
        status: int,
    ) -> None:
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import BlobServiceClient

        service = BlobServiceClient.from_connection_string(
            self.storage[subscription.dead_letter_connection]
        )
        with contextlib.suppress(ResourceExistsError):
            service.create_container(subscription.dead_letter_container)
        now = datetime.now(UTC)
        name = f"{subscription.name}/{now:%Y/%m/%d/%H}/{uuid.uuid4()}.json"
        record = {
            **event,
            "deadLetterReason": outcome.dead_lettered,
            "deliveryAttempts": outcome.attempts,
            "lastDeliveryOutcome": "TimedOut" if status == TIMED_OUT else f"HTTP {status}",
            "lastHttpStatusCode": status,
            "lastDeliveryAttemptTime": now.isoformat(),
        }
        service.get_blob_client(subscription.dead_letter_container, name).upload_blob(
            json.dumps([record]).encode(), overwrite=True
        )
        log.error(
            "event grid: %s dead-lettered %s after %d attempts: %s",
            subscription.name,
            outcome.event_id,
            outcome.attempts,
            outcome.dead_lettered,
        )


def blob_created_event(
    container: str, name: str, url: str, etag: str, size: int, content_type: str | None
) -> dict[str, Any]:
    """The ``Microsoft.Storage.BlobCreated`` event Azure Storage raises, in the Event Grid
    schema."""
    return {
        "id": str(uuid.uuid4()),
        "topic": "/subscriptions/local/resourceGroups/local/providers/"
        "Microsoft.Storage/storageAccounts/devstoreaccount1",
        "subject": f"/blobServices/default/containers/{container}/blobs/{name}",
        "eventType": "Microsoft.Storage.BlobCreated",
        "eventTime": datetime.now(UTC).isoformat(),
        "dataVersion": "",
        "metadataVersion": "1",
        "data": {
            "api": "PutBlockList",
            "contentType": content_type,
            "contentLength": size,
            "blobType": "BlockBlob",
            "url": url,
            "eTag": etag,
        },
    }
