"""A child writes offline: words entries and safety alerts through sync push, on in-memory ports."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.access import Caller
from shared.safety.models import ADVICE
from shared.sync.pull import Puller
from shared.sync.push import Pusher, PushIn
from tests.fakes import FakeRuntime
from tests.unit.services.casebook import Casebook, uid

WORKER_PHONE = "+447700900601"


@pytest.fixture
def book() -> Casebook:
    casebook = Casebook(FakeRuntime(safety_duty_phone="+447700900699"))
    key = f"staff:{casebook.runtime.settings.staff_tenant_id}:{casebook.worker.id}"
    entry = {k: v for k, v in (casebook.runtime.directory.read(key) or {}).items() if k[0] != "_"}
    casebook.runtime.directory.upsert({**entry, "phone": WORKER_PHONE})
    return casebook


def push(book: Casebook, caller: Caller, *operations: dict[str, Any]) -> list[dict[str, Any]]:
    def encode(error: Exception) -> dict[str, Any]:
        return {"title": type(error).__name__, "status": getattr(error, "errors", None)}

    pusher = Pusher(book.runtime, caller, encode)
    return pusher.push(PushIn.model_validate({"operations": list(operations)}))


def op(book: Casebook, kind: str, action: str, record_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "opId": uid(),
        "type": kind,
        "action": action,
        "id": record_id,
        "familyId": book.family_id,
        **fields,
    }


def test_words_written_offline_arrive_and_reach_staff_devices(book: Casebook) -> None:
    entry_id = uid()
    [result] = push(
        book,
        book.parent,
        op(book, "words", "create", entry_id, data={"kind": "good-news", "text": "Top marks"}),
    )

    assert result["status"] == "applied"
    changes = Puller(book.runtime, book.worker).pull(None, 500)["changes"]
    [pulled] = [c for c in changes if c["id"] == entry_id]
    assert pulled["type"] == "words"
    assert pulled["data"]["text"] == "Top marks"
    family_changes = Puller(book.runtime, book.parent).pull(None, 500)["changes"]
    assert entry_id in [c["id"] for c in family_changes]


def test_words_are_never_updated_through_sync_and_only_their_author_withdraws(
    book: Casebook,
) -> None:
    entry_id = uid()
    [made] = push(
        book,
        book.parent,
        op(book, "words", "create", entry_id, data={"kind": "worry", "text": "Moving"}),
    )
    version = made["version"]

    [update] = push(
        book,
        book.parent,
        op(book, "words", "update", entry_id, baseVersion=version, data={"text": "x"}),
    )
    [by_staff] = push(book, book.worker, op(book, "words", "delete", entry_id, baseVersion=version))
    [withdrawn] = push(
        book, book.parent, op(book, "words", "delete", entry_id, baseVersion=version)
    )

    assert update["status"] == "rejected"
    assert by_staff["status"] == "rejected"
    assert by_staff["problem"]["title"] == "ForbiddenError"
    assert withdrawn["status"] == "applied"


def test_an_alert_queued_offline_is_raised_when_it_arrives_and_a_replay_texts_nobody(
    book: Casebook,
) -> None:
    written = book.runtime.clock() - timedelta(hours=2)
    alert = op(
        book,
        "safetyAlert",
        "create",
        uid(),
        data={"message": "help", "writtenAt": written.isoformat()},
    )

    [first] = push(book, book.parent, alert)
    [again] = push(book, book.parent, alert)
    [other_op_same_alert] = push(book, book.parent, {**alert, "opId": uid()})

    assert first["status"] == "applied"
    assert first["advice"] == ADVICE
    assert again == first
    assert other_op_same_alert["status"] == "applied"
    assert [sms.to for sms in book.runtime.sms_sender.sent] == [WORKER_PHONE]
    stored = book.runtime.records.read(book.family_id, alert["id"])
    assert stored is not None
    assert stored["writtenAt"] < stored["receivedAt"]


def test_staff_cannot_push_an_alert_and_alerts_are_only_raised(book: Casebook) -> None:
    alert_id = uid()
    [by_staff] = push(book, book.worker, op(book, "safetyAlert", "create", alert_id, data={}))
    [deleted] = push(
        book, book.parent, op(book, "safetyAlert", "delete", alert_id, baseVersion="x")
    )

    assert by_staff["status"] == "rejected"
    assert by_staff["problem"]["title"] == "ForbiddenError"
    assert deleted["status"] == "rejected"
    assert book.runtime.sms_sender.sent == []
