"""The local host's Event Grid webhook: events POSTed by hand reach the declared function."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import azure.functions as func
import httpx
import pytest

from local.host import build_asgi, event_grid_event, event_grid_functions

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
WEBHOOK = "/runtime/webhooks/EventGrid?functionName=sample_event"


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
        self.asgi = build_asgi(FUNCTIONS)

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
        ("/runtime/webhooks/eventgrid?functionName=nothing", [report()], 404),
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
