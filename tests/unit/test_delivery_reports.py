from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shared.reminders.delivery import (
    EVENT_TYPE,
    InvalidDeliveryReportError,
    parse_delivery_report,
    record_delivery_report,
)
from shared.reminders.ids import claim_tag
from shared.reminders.memory import FrozenClock, InMemoryClaimStore
from shared.reminders.models import Claim
from tests.claims import reminder_claim

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
MESSAGE_ID = "Outgoing_20261126140000a1b2c3d4-0000-4000-8000-000000000001_noam"


def sent_claim(store: InMemoryClaimStore, claim_id: str = "claim-1", **changes: Any) -> Claim:
    claim = reminder_claim(
        "fam-1",
        NOW,
        id=claim_id,
        visit_id="visit-1",
        member_id="member-1",
        message_id=MESSAGE_ID,
        sent_at=NOW,
    )
    return store.create(claim.model_copy(update=changes))


def event_grid(status: str = "Delivered", **data: Any) -> dict[str, Any]:
    return {
        "id": MESSAGE_ID,
        "topic": "/subscriptions/s/resourceGroups/g/providers/microsoft.communication/"
        "communicationservices/acs",
        "subject": "/phonenumber/447911123456",
        "eventType": EVENT_TYPE,
        "eventTime": "2026-11-26T14:00:09Z",
        "dataVersion": "1.0",
        "metadataVersion": "1",
        "data": {
            "messageId": MESSAGE_ID,
            "from": "FamilyStory",
            "to": "+447911123456",
            "deliveryStatus": status,
            "deliveryStatusDetails": "No error." if status == "Delivered" else "Unreachable.",
            "deliveryAttempts": [
                {"timestamp": "2026-11-26T14:00:05Z", "segmentsSucceeded": 1, "segmentsFailed": 0}
            ],
            "receivedTimestamp": "2026-11-26T14:00:08.2855749Z",
            "tag": claim_tag("fam-1", "claim-1"),
            **data,
        },
    }


def test_a_delivered_report_marks_the_claim_found_by_its_tag_delivered() -> None:
    store = InMemoryClaimStore()
    sent_claim(store)

    claim = record_delivery_report(store, event_grid(), FrozenClock(NOW))

    assert claim is not None
    assert claim.status == "delivered"
    assert claim.delivery_status == "Delivered"
    assert claim.delivery_status_details == "No error."
    assert claim.delivery_reported_at == datetime(2026, 11, 26, 14, 0, 8, tzinfo=UTC)
    assert store.get("fam-1", "claim-1") == claim


def test_a_failed_report_marks_the_claim_undeliverable() -> None:
    store = InMemoryClaimStore()
    sent_claim(store)

    claim = record_delivery_report(store, event_grid("Failed"), FrozenClock(NOW))

    assert claim is not None
    assert (claim.status, claim.delivery_status_details) == ("undeliverable", "Unreachable.")


def test_a_report_without_our_tag_is_matched_by_message_id() -> None:
    store = InMemoryClaimStore()
    sent_claim(store)
    pascal_case_data = {
        "MessageId": MESSAGE_ID,
        "From": "FamilyStory",
        "To": "+447911123456",
        "DeliveryStatus": "Delivered",
        "DeliveryStatusDetails": "No error.",
        "ReceivedTimestamp": "2026-11-26T14:00:08Z",
    }

    claim = record_delivery_report(store, pascal_case_data, FrozenClock(NOW))

    assert claim is not None
    assert claim.status == "delivered"


def test_a_cloud_event_is_read_as_well() -> None:
    store = InMemoryClaimStore()
    sent_claim(store)
    grid = event_grid()
    cloud = {"specversion": "1.0", "type": EVENT_TYPE, "source": "acs", "data": grid["data"]}

    claim = record_delivery_report(store, cloud, FrozenClock(NOW))

    assert claim is not None
    assert claim.status == "delivered"


def test_a_report_is_idempotent_and_an_older_one_never_overwrites_a_newer_one() -> None:
    store = InMemoryClaimStore()
    sent_claim(store)
    clock = FrozenClock(NOW)
    record_delivery_report(store, event_grid(), clock)
    again = record_delivery_report(store, event_grid(), clock)
    older = event_grid("Failed", receivedTimestamp="2026-11-26T14:00:01Z")

    late = record_delivery_report(store, older, clock)

    assert again is not None
    assert late is not None
    assert again.status == late.status == "delivered"


def test_a_report_for_an_unknown_message_changes_nothing() -> None:
    store = InMemoryClaimStore()
    sent_claim(store)
    stray = event_grid(messageId="Outgoing_other", tag="fam-9/claim-9")

    assert record_delivery_report(store, stray, FrozenClock(NOW)) is None
    assert store.get("fam-1", "claim-1").status == "sent"  # type: ignore[union-attr]


def test_a_tag_pointing_at_a_claim_with_another_message_is_not_trusted() -> None:
    store = InMemoryClaimStore()
    sent_claim(store)
    sent_claim(store, "claim-2", message_id="Outgoing_other")
    report = event_grid(messageId="Outgoing_other")

    claim = record_delivery_report(store, report, FrozenClock(NOW))

    assert claim is not None
    assert claim.id == "claim-2"
    assert store.get("fam-1", "claim-1").status == "sent"  # type: ignore[union-attr]


def test_a_report_for_a_claim_whose_send_outcome_was_unknown_records_the_message() -> None:
    store = InMemoryClaimStore()
    sent_claim(store, status="failed", reason="outcome-unknown", message_id=None, sent_at=None)

    claim = record_delivery_report(store, event_grid(), FrozenClock(NOW))

    assert claim is not None
    assert (claim.status, claim.message_id) == ("delivered", MESSAGE_ID)


@pytest.mark.parametrize(
    "event",
    [
        {"eventType": "Microsoft.Communication.SMSReceived", "data": {"messageId": "x"}},
        {"data": {"deliveryStatus": "Delivered"}},
        {"messageId": "x"},
        {},
    ],
)
def test_other_events_and_reports_without_ids_are_refused(event: dict[str, Any]) -> None:
    with pytest.raises(InvalidDeliveryReportError):
        parse_delivery_report(event)
