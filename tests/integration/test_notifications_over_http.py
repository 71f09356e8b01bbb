"""Notifications through the local host over HTTP: a delivery report POSTed to its Event Grid
webhook reaches the real function, and staff read the outcome from the API."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest

from local.emulators import Emulators
from shared.bootstrap import get_runtime
from shared.reminders.delivery import EVENT_TYPE
from shared.reminders.ids import claim_tag
from tests.claims import reminder_claim
from tests.functional.world import staff
from tests.integration.conftest import HostFactory, RunningHost
from tests.tokens import bearer

WEBHOOK = "/runtime/webhooks/eventgrid?functionName=reminders_delivery_report"


def key(host: RunningHost) -> dict[str, str]:
    return {"x-functions-key": host.event_grid_key}


@pytest.fixture(scope="module")
def api(host_factory: HostFactory) -> RunningHost:
    return host_factory()


def test_a_delivery_report_posted_to_the_host_shows_as_delivered(
    api: RunningHost, stack: Emulators
) -> None:
    worker = staff("SocialWorker", "Sam Patel", [team := str(uuid.uuid4())])
    family = httpx.post(
        f"{api.url}/api/v1/families",
        headers=bearer(worker.token),
        json={"displayName": "Doe", "teamId": team},
    )
    assert family.status_code == 201, family.text
    family_id = family.json()["id"]
    now = datetime.now(UTC)
    claim = get_runtime().claim_store.create(
        reminder_claim(family_id, now, to="+447700900301", message_id="outbox-1", sent_at=now)
    )
    event = {
        "id": str(uuid.uuid4()),
        "topic": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Communication/acs",
        "subject": "/phonenumber/447700900301",
        "eventType": EVENT_TYPE,
        "eventTime": now.isoformat(),
        "dataVersion": "1.0",
        "data": {
            "messageId": "outbox-1",
            "deliveryStatus": "Delivered",
            "receivedTimestamp": now.isoformat(),
            "tag": claim_tag(family_id, claim.id),
        },
    }

    unauthenticated = httpx.post(f"{api.url}{WEBHOOK}", json=[event])
    delivered = httpx.post(f"{api.url}{WEBHOOK}", json=[event], headers=key(api))
    again = httpx.post(f"{api.url}{WEBHOOK}", json=[event], headers=key(api))  # at least once
    listed = httpx.get(
        f"{api.url}/api/v1/families/{family_id}/notifications", headers=bearer(worker.token)
    )

    assert unauthenticated.status_code == 401
    assert (delivered.status_code, again.status_code) == (202, 202), api.output()
    assert listed.status_code == 200, listed.text
    [shown] = listed.json()["items"]
    assert (shown["id"], shown["status"], shown["deliveryStatus"]) == (
        claim.id,
        "delivered",
        "Delivered",
    )
    assert listed.json()["next"] is None


def test_the_host_answers_the_event_grid_subscription_handshake(api: RunningHost) -> None:
    handshake = {
        "id": str(uuid.uuid4()),
        "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
        "subject": "",
        "eventTime": "2026-11-26T14:00:00Z",
        "dataVersion": "1",
        "data": {"validationCode": "code-123"},
    }
    response = httpx.post(
        f"{api.url}{WEBHOOK}",
        json=[handshake],
        headers={"aeg-event-type": "SubscriptionValidation", **key(api)},
    )
    assert response.status_code == 200
    assert response.json() == {"validationResponse": "code-123"}
