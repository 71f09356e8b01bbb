"""Telemetry end to end: the local host with ``OTEL_EXPORTER_OTLP_ENDPOINT`` set exports to an
OTLP/HTTP receiver, over real HTTP and the real emulators.

One request is one trace: the function's span, under the caller's ``traceparent``, with the
Cosmos DB dependency spans of the Azure SDK (the audit write among them) below it, and the log
records written meanwhile carrying the same trace and the invocation's fields. No name, phone
number or token given to the API appears anywhere in what is exported.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import httpx
import pytest

from local.emulators import Emulators
from shared.bootstrap import get_runtime, reset_runtime
from shared.storage_layout import DIRECTORY
from tests.integration.conftest import HostFactory, RunningHost
from tests.otlp_receiver import OtlpReceiver, Received, Span
from tests.tokens import bearer, staff_token

FAMILY_NAME = "Marchbanks-Quillfeather"
MEMBER_NAME = "Ottoline Marchbanks"
PHONE = "+447700900987"
STAFF_NAME = "Perpetua Vandersloot"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
FAST_EXPORT = {"OTEL_BSP_SCHEDULE_DELAY": "100", "OTEL_BLRP_SCHEDULE_DELAY": "100"}


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as running:
        yield running


@pytest.fixture(scope="module")
def api(host_factory: HostFactory, receiver: OtlpReceiver) -> RunningHost:
    return host_factory(
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url, TELEMETRY_SAMPLING_RATIO="1", **FAST_EXPORT
    )


@pytest.fixture(scope="module")
def created(
    api: RunningHost, receiver: OtlpReceiver, emulators: Emulators, base_settings: dict[str, str]
) -> Iterator[dict[str, str]]:
    """A family and a member with a phone number, made by a social worker; the member's
    creation carries the caller's trace context."""
    saved = dict(os.environ)
    os.environ.update(base_settings)
    reset_runtime()
    try:
        yield _create(api, receiver)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_runtime()


def _create(api: RunningHost, receiver: OtlpReceiver) -> dict[str, str]:
    team, oid = str(uuid.uuid4()), str(uuid.uuid4())
    runtime = get_runtime()
    runtime.database.get_container_client(DIRECTORY.name).upsert_item(
        {
            "id": f"staff:{runtime.settings.staff_tenant_id}:{oid}",
            "type": "staff",
            "oid": oid,
            "displayName": STAFF_NAME,
            "teamIds": [team],
        }
    )
    token = staff_token("SocialWorker", oid=oid, name=STAFF_NAME)
    headers = bearer(token)
    base = f"{api.url}/api/v1"
    family = httpx.post(
        f"{base}/families", headers=headers, json={"displayName": FAMILY_NAME, "teamId": team}
    )
    assert family.status_code == 201, family.text
    family_id = family.json()["id"]
    member = httpx.post(
        f"{base}/families/{family_id}/members",
        headers={**headers, "traceparent": f"00-{TRACE_ID}-{CALLER_SPAN}-01"},
        json={
            "displayName": MEMBER_NAME,
            "relationship": "parent",
            "phone": PHONE,
            "smsReminders": True,
        },
    )
    assert member.status_code == 201, member.text
    listed = httpx.get(f"{base}/families/{family_id}/members", headers=headers)
    assert listed.status_code == 200
    receiver.received.wait_for(lambda seen: _function_span(seen, "members_list") is not None)
    return {"family": family_id, "member": member.json()["id"], "token": token}


def _function_span(received: Received, function: str) -> Span | None:
    for span in received.spans:
        if span.attributes.get("familystory.function") == function:
            return span
    return None


def _trace(received: Received, trace_id: str) -> list[Span]:
    return [span for span in received.spans if span.trace_id == trace_id]


def _descends_from(span: Span, root: Span, spans: list[Span]) -> bool:
    by_id = {s.span_id: s for s in spans}
    current: Span | None = span
    while current is not None:
        if current.parent_span_id == root.span_id:
            return True
        current = by_id.get(current.parent_span_id)
    return False


def test_one_request_is_one_trace_of_the_function_and_its_cosmos_calls(
    created: dict[str, str], receiver: OtlpReceiver
) -> None:
    received = receiver.received
    received.wait_for(lambda seen: len(_trace(seen, TRACE_ID)) > 3)
    spans = _trace(received, TRACE_ID)
    functions = [s for s in spans if "familystory.function" in s.attributes]
    assert [s.name for s in functions] == ["members_create"]
    function = functions[0]
    assert function.parent_span_id == CALLER_SPAN
    assert function.attributes["faas.trigger"] == "http"
    assert function.attributes["familystory.family_id"] == created["family"]
    assert function.attributes["http.response.status_code"] == 201
    assert uuid.UUID(str(function.attributes["faas.invocation_id"]))
    others = [s for s in spans if s is not function]
    assert others
    assert all(_descends_from(s, function, spans) for s in others)
    cosmos = [s for s in others if "/dbs/" in str(s.attributes.get("url.full", ""))]
    assert any("/colls/records/" in str(s.attributes["url.full"]) for s in cosmos)
    audit_writes = [
        s
        for s in cosmos
        if "/colls/audit/docs" in str(s.attributes["url.full"])
        and s.attributes.get("http.request.method") == "POST"
    ]
    assert len(audit_writes) == 1
    assert audit_writes[0].attributes["http.response.status_code"] == 201


def test_log_records_belong_to_the_trace_and_carry_the_invocation_fields(
    created: dict[str, str], receiver: OtlpReceiver
) -> None:
    received = receiver.received
    received.wait_for(
        lambda seen: any(log.attributes.get("function") == "members_create" for log in seen.logs)
    )
    [answered] = [
        log for log in received.logs if log.attributes.get("function") == "members_create"
    ]
    assert answered.trace_id == TRACE_ID
    assert answered.attributes["familystory.family_id"] == created["family"]
    assert answered.attributes["status"] == 201
    assert answered.attributes["faas.invocation_id"] == answered.attributes["invocation_id"]


def test_nothing_personal_is_exported(created: dict[str, str], receiver: OtlpReceiver) -> None:
    texts = list(receiver.received.strings())
    assert len(texts) > 100
    secrets = [FAMILY_NAME, "Marchbanks", MEMBER_NAME, STAFF_NAME, PHONE, PHONE[3:], "7700 900"]
    secrets.append(created["token"])
    secrets.append(created["token"].split(".")[1])
    leaked = {secret for secret in secrets for text in texts if secret in text}
    assert leaked == set()
    assert not [text for text in texts if "sig=" in text and "REDACTED" not in text]
