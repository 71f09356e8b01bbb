"""The local host's Event Grid webhook (events POSTed by hand, with the system key, reach the
declared function) and its Event Grid delivery rules (answer limit, retries, dead-lettering,
duplicates), run in process with a compressed clock."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import azure.functions as func
import httpx
import pytest

from local.host.eventgrid import (
    ANSWER_SECONDS,
    DeliveryRules,
    EventGrid,
    Outcome,
    event_grid_event,
    event_grid_functions,
    host_keys,
)
from local.host.http import build_asgi
from local.subscriptions import BlobCreatedSubscription, FunctionDestination

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
received: list[func.EventGridEvent] = []


@app.function_name("sample_event")
@app.event_grid_trigger(arg_name="event")
def sample_event(event: func.EventGridEvent) -> None:
    if event.subject == "fail":
        raise RuntimeError("this event always fails")
    received.append(event)


@app.function_name("sample_ping")
@app.route(route="ping", methods=["GET"])
def sample_ping(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("pong")


FUNCTIONS = app.get_functions()
KEYS = {"masterKey": "master-secret", "eventgrid_extension": "system-secret"}
WEBHOOK = "/runtime/webhooks/EventGrid?functionName=sample_event&code=system-secret"


def report(event_id: str = "e-1", subject: str = "/phonenumber/447700900123") -> dict[str, Any]:
    return {
        "id": event_id,
        "topic": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Communication/x",
        "subject": subject,
        "eventType": "Microsoft.Communication.SMSDeliveryReportReceived",
        "eventTime": "2026-11-26T14:00:05.1234567Z",
        "dataVersion": "1.0",
        "data": {"messageId": "m-1", "deliveryStatus": "Delivered"},
    }


class Client:
    """Requests to the host's ASGI app in process (no server, no port)."""

    def __init__(self) -> None:
        self.asgi, _ = build_asgi(FUNCTIONS, KEYS)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.asgi)
            async with httpx.AsyncClient(transport=transport, base_url="http://host") as client:
                return await client.request(method, url, **kwargs)

        return asyncio.run(send())

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def options(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("OPTIONS", url, **kwargs)


@pytest.fixture
def client() -> Client:
    received.clear()
    return Client()


def test_the_host_finds_event_grid_functions_in_the_app_metadata() -> None:
    assert [f.name for f in event_grid_functions(FUNCTIONS)] == ["sample_event"]


def test_an_event_grid_array_invokes_the_function_once_per_event(client: Client) -> None:
    response = client.post(WEBHOOK, json=[report("e-1"), report("e-2")])

    assert response.status_code == 202
    assert [e.id for e in received] == ["e-1", "e-2"]
    event = received[0]
    assert event.event_type == "Microsoft.Communication.SMSDeliveryReportReceived"
    assert event.get_json() == {"messageId": "m-1", "deliveryStatus": "Delivered"}
    assert event.subject == "/phonenumber/447700900123"
    assert event.data_version == "1.0"
    assert event.event_time == datetime(2026, 11, 26, 14, 0, 5, 123456, tzinfo=UTC)
    assert client.get("/api/v1/ping").text == "pong"


def test_the_subscription_validation_handshake_echoes_the_code(client: Client) -> None:
    handshake = {
        "id": "v-1",
        "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
        "subject": "",
        "eventTime": "2026-11-26T14:00:00Z",
        "dataVersion": "1",
        "data": {"validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"},
    }
    response = client.post(
        WEBHOOK, json=[handshake], headers={"aeg-event-type": "SubscriptionValidation"}
    )

    assert response.status_code == 200
    assert response.json() == {"validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}
    assert received == []


def test_a_cloud_event_is_handed_over_as_an_event_grid_event(client: Client) -> None:
    cloud = {
        "specversion": "1.0",
        "id": "c-1",
        "type": "Microsoft.Communication.SMSDeliveryReportReceived",
        "source": "/acs",
        "subject": "s",
        "time": "2026-11-26T14:00:05Z",
        "data": {"messageId": "m-2", "deliveryStatus": "Failed"},
    }
    assert (
        client.options(WEBHOOK, headers={"WebHook-Request-Origin": "eventgrid.azure.net"}).headers[
            "webhook-allowed-origin"
        ]
        == "eventgrid.azure.net"
    )

    assert client.post(WEBHOOK, json=cloud).status_code == 202
    assert received[0].topic == "/acs"
    assert received[0].get_json()["messageId"] == "m-2"


def test_a_failing_function_answers_500_so_event_grid_delivers_again(client: Client) -> None:
    response = client.post(WEBHOOK, json=[report(subject="fail")])

    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert client.post(WEBHOOK, json=[report()]).status_code == 202


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/runtime/webhooks/eventgrid?functionName=nothing&code=system-secret", [report()], 404),
        (WEBHOOK, b"not json", 400),
        (WEBHOOK, [{"eventType": "x"}], 400),
        (WEBHOOK, ["text"], 400),
    ],
)
def test_unknown_functions_and_bodies_without_events_are_refused(
    client: Client, path: str, body: Any, status: int
) -> None:
    if isinstance(body, bytes):
        response = client.post(path, content=body)
    else:
        response = client.post(path, json=body)
    assert response.status_code == status
    assert received == []


def test_event_times_that_cannot_be_read_are_left_out() -> None:
    event = event_grid_event({**report(), "eventTime": "yesterday"})
    assert event.event_time is None


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("", {}),
        ("&code=wrong", {}),
        ("", {"x-functions-key": "not-the-key"}),
        ("&code=", {}),
    ],
)
def test_the_webhook_refuses_a_delivery_without_the_system_key(
    client: Client, query: str, headers: dict[str, str]
) -> None:
    path = f"/runtime/webhooks/eventgrid?functionName=sample_event{query}"
    response = client.post(path, json=[report()], headers=headers)

    assert response.status_code == 401
    assert received == []


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("", {"x-functions-key": "system-secret"}),
        ("&code=master-secret", {}),
    ],
)
def test_the_system_key_in_a_header_or_the_master_key_is_accepted(
    client: Client, query: str, headers: dict[str, str]
) -> None:
    path = f"/runtime/webhooks/eventgrid?functionName=sample_event{query}"
    assert client.post(path, json=[report()], headers=headers).status_code == 202


def test_host_keys_are_made_once_and_kept_private(tmp_path: Path) -> None:
    path = tmp_path / "state" / "host-keys.json"
    first = host_keys(path)

    assert host_keys(path) == first
    assert len(first["eventgrid_extension"]) >= 40
    assert first["eventgrid_extension"] != first["masterKey"]
    assert path.stat().st_mode & 0o077 == 0


# --- delivery ---------------------------------------------------------------------------------

SCALE = 0.002  # Event Grid's 30 s answer limit becomes 60 ms; its 10 s first retry, 20 ms
ROOMY_SCALE = 0.02  # a 600 ms answer limit, which a function that answers at once always meets
calls: list[str] = []


class RecordingEventGrid(EventGrid):
    """The local Event Grid, with dead letters kept in memory instead of written to Azurite."""

    def __init__(self, rules: DeliveryRules) -> None:
        _, webhook = build_asgi(DELIVERY_FUNCTIONS, KEYS)
        super().__init__(webhook, {}, rules)
        self.dead: list[tuple[dict[str, Any], Outcome]] = []

    def dead_letter(
        self, subscription: Any, event: dict[str, Any], outcome: Outcome, status: int
    ) -> None:
        self.dead.append((event, outcome))


delivery_app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@delivery_app.function_name("slow_event")
@delivery_app.event_grid_trigger(arg_name="event")
def slow_event(event: func.EventGridEvent) -> None:
    """Takes five answer limits, as a long transcode inside a delivery would."""
    calls.append(event.id)
    time.sleep(ANSWER_SECONDS * SCALE * 5)


@delivery_app.function_name("failing_event")
@delivery_app.event_grid_trigger(arg_name="event")
def failing_event(event: func.EventGridEvent) -> None:
    calls.append(event.id)
    raise RuntimeError("always fails")


@delivery_app.function_name("quick_event")
@delivery_app.event_grid_trigger(arg_name="event")
def quick_event(event: func.EventGridEvent) -> None:
    calls.append(event.id)


DELIVERY_FUNCTIONS = delivery_app.get_functions()


def subscription(function: str) -> BlobCreatedSubscription:
    return BlobCreatedSubscription(
        name=f"to-{function}",
        container="uploads",
        connection="MEDIA_STORAGE",
        destination=FunctionDestination(function),
        dead_letter_container="dead",
        dead_letter_connection="MEDIA_STORAGE",
    )


def run_delivery(grid: EventGrid, function: str, event: dict[str, Any]) -> None:
    async def deliver() -> None:
        grid.publish(subscription(function), event)
        await grid.drain()
        await asyncio.sleep(ANSWER_SECONDS * SCALE * 6)  # let runs past their answer finish

    asyncio.run(deliver())


@pytest.fixture
def grid_rules() -> DeliveryRules:
    calls.clear()
    return DeliveryRules(time_scale=ROOMY_SCALE, duplicate_share=0.0, max_attempts=4)


def test_a_function_slower_than_the_answer_limit_is_delivered_again_while_it_runs(
    grid_rules: DeliveryRules,
) -> None:
    """What a long media run inside an Event Grid delivery would meet in Azure."""
    grid = RecordingEventGrid(replace(grid_rules, time_scale=SCALE))
    run_delivery(grid, "slow_event", report("slow-1"))

    (outcome,) = grid.outcomes
    assert outcome.statuses == [408, 408, 408, 408]
    assert calls == ["slow-1"] * 4, "each redelivery ran the function again"
    assert outcome.dead_lettered == "MaxDeliveryAttemptExceeded"


def test_a_failing_function_is_retried_on_the_schedule_then_dead_lettered(
    grid_rules: DeliveryRules,
) -> None:
    grid = RecordingEventGrid(grid_rules)
    run_delivery(grid, "failing_event", report("fail-1"))

    (outcome,) = grid.outcomes
    assert outcome.attempts == 4
    assert outcome.statuses == [500] * 4
    assert not outcome.delivered
    ((event, dead),) = grid.dead
    assert event["id"] == "fail-1"
    assert dead.dead_lettered == "MaxDeliveryAttemptExceeded"


def test_a_bad_request_is_dead_lettered_without_retries(grid_rules: DeliveryRules) -> None:
    grid = RecordingEventGrid(grid_rules)
    run_delivery(grid, "quick_event", {"id": "no-type"})

    (outcome,) = grid.outcomes
    assert outcome.statuses == [400]
    assert "does not retry" in str(outcome.dead_lettered)
    assert calls == []


def test_a_delivered_event_may_be_delivered_again(grid_rules: DeliveryRules) -> None:
    grid = RecordingEventGrid(replace(grid_rules, duplicate_share=1.0))
    run_delivery(grid, "quick_event", report("twice"))

    (outcome,) = grid.outcomes
    assert outcome.delivered
    assert outcome.duplicated
    assert calls == ["twice", "twice"]


def test_the_retry_schedule_is_event_grids_with_jitter() -> None:
    rules = DeliveryRules()
    expected = [10, 30, 60, 300, 600, 1800, 3600, 10800, 21600, 43200, 43200]
    for attempt, seconds in enumerate(expected, start=1):
        assert seconds * 0.9 <= rules.retry_delay(attempt) <= seconds * 1.1
    assert DeliveryRules(time_scale=0.01).retry_delay(1) <= 0.11
