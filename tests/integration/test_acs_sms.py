"""The real ``azure-communication-sms`` client, through ``AcsSmsSender``, against a local ACS.

The server (tests/acs_server.py) verifies the HMAC-SHA256 signature of every request and answers
like ACS; nothing of the SDK is mocked.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.core.credentials import AccessToken

from shared.adapters.acs_sms import AcsSmsConfig, AcsSmsSender
from shared.adapters.sms import build_sms_sender
from shared.reminders.memory import FrozenClock, InMemoryClaimStore, InMemoryFamilies
from shared.reminders.models import Member, Visit
from shared.reminders.service import ReminderService
from shared.sms.port import SmsOutcomeUnknownError, SmsPermanentError, SmsTransientError
from shared.sms.templates import SmsTemplates
from tests.acs_server import AcsSmsServer, sign

MOBILE = "+447911123456"
SENDER_ID = "FamilyStory"


@pytest.fixture
def acs(tmp_path: Path) -> Iterator[AcsSmsServer]:
    server = AcsSmsServer(tmp_path / "certs").start()
    try:
        yield server
    finally:
        server.stop()


def sender_for(acs: AcsSmsServer, retry_total: int = 0, **overrides: Any) -> AcsSmsSender:
    options: dict[str, Any] = {
        "sender_id": SENDER_ID,
        "connection_string": acs.connection_string,
        "connection_verify": str(acs.certificate),
        "retry_total": retry_total,
        "read_timeout_seconds": 5,
        **overrides,
    }
    return AcsSmsSender(AcsSmsConfig(**options))


def test_real_sms_client_sends_a_signed_text_with_delivery_report_and_tag(
    acs: AcsSmsServer,
) -> None:
    result = sender_for(acs).send(MOBILE, "Hi Sam, your visit is on Friday at 2pm.", "fam/claim")

    [message] = acs.messages
    assert message.to == MOBILE
    assert message.sender == SENDER_ID
    assert message.message == "Hi Sam, your visit is on Friday at 2pm."
    assert message.enable_delivery_report is True
    assert message.tag == "fam/claim"
    assert message.api_version == "2021-03-07"
    assert message.repeatability_request_id
    assert result.message_id == message.message_id
    assert result.to == MOBILE
    [request] = acs.requests
    assert request.status == 202
    assert request.headers["Authorization"].startswith(
        "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="
    )


def test_a_wrong_access_key_is_rejected_with_401_and_nothing_is_sent(
    acs: AcsSmsServer,
) -> None:
    wrong_key = base64.b64encode(secrets.token_bytes(32)).decode()
    sender = sender_for(acs, connection_string=f"endpoint={acs.endpoint}/;accesskey={wrong_key}")

    with pytest.raises(SmsTransientError, match="401"):
        sender.send(MOBILE, "Hello", "tag")

    assert acs.messages == []
    assert [r.status for r in acs.requests] == [401]


def test_server_checks_the_body_hash_and_signature_not_just_their_presence(
    acs: AcsSmsServer,
) -> None:
    body = b'{"from": "FamilyStory", "smsRecipients": [{"to": "+447911123456"}], "message": "x"}'
    date = format_datetime(datetime.now(UTC), usegmt=True)
    host = f"localhost:{acs.port}"
    path = "/sms?api-version=2021-03-07"

    def post(payload: bytes, signature: str, when: str = date) -> httpx.Response:
        digest = base64.b64encode(hashlib.sha256(payload).digest()).decode()
        headers = {
            "x-ms-date": when,
            "x-ms-content-sha256": digest,
            "Content-Type": "application/json",
            "Authorization": f"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256"
            f"&Signature={signature}",
        }
        return httpx.post(f"{acs.endpoint}{path}", content=payload, headers=headers, verify=trust)

    trust = ssl.create_default_context(cafile=str(acs.certificate))
    good = sign(acs.state.access_key, "POST", path, date, host, body)
    tampered = body.replace(b'"x"', b'"y"')
    stale = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)

    assert post(tampered, good).status_code == 401
    assert post(body, good[:-4] + "AAA=").status_code == 401
    assert (
        post(body, sign(acs.state.access_key, "POST", path, stale, host, body), stale).status_code
        == 401
    )
    assert post(body, good).status_code == 202
    assert [r.status for r in acs.requests] == [401, 401, 401, 202]
    assert len(acs.messages) == 1


def test_a_5xx_is_a_transient_error(acs: AcsSmsServer) -> None:
    acs.fail_next(503)

    with pytest.raises(SmsTransientError, match="503"):
        sender_for(acs).send(MOBILE, "Hello", "tag")

    assert acs.messages == []


def test_the_sdk_retry_of_a_5xx_reuses_its_repeatability_id_and_texts_once(
    acs: AcsSmsServer,
) -> None:
    acs.fail_next(500)

    sender_for(acs, retry_total=1).send(MOBILE, "Hello", "tag")

    assert [r.status for r in acs.requests] == [500, 202]
    assert len(acs.messages) == 1


def test_a_recipient_refused_inside_a_202_is_a_permanent_error(acs: AcsSmsServer) -> None:
    acs.reject(MOBILE, 400)

    with pytest.raises(SmsPermanentError, match="400"):
        sender_for(acs).send(MOBILE, "Hello", "tag")


def test_a_lost_answer_is_an_unknown_outcome(acs: AcsSmsServer) -> None:
    acs.drop_next()

    with pytest.raises(SmsOutcomeUnknownError):
        sender_for(acs).send(MOBILE, "Hello", "tag")

    assert len(acs.messages) == 1


def test_an_unreachable_endpoint_is_a_transient_error(acs: AcsSmsServer) -> None:
    port = acs.port
    acs.stop()
    sender = sender_for(acs, connection_string=f"endpoint=https://localhost:{port}/;accesskey=AA==")

    with pytest.raises(SmsTransientError, match="unreachable"):
        sender.send(MOBILE, "Hello", "tag")


def test_an_http_endpoint_is_spoken_to_over_https(acs: AcsSmsServer) -> None:
    http = f"endpoint=http://localhost:{acs.port}/;accesskey={acs.state.access_key}"

    sender_for(acs, connection_string=http).send(MOBILE, "Hello", "tag")

    assert len(acs.messages) == 1


class StaticCredential:
    def __init__(self, token: str) -> None:
        self.token = token
        self.scopes: list[str] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes += scopes
        return AccessToken(self.token, int(datetime.now(UTC).timestamp()) + 3600)


def test_identity_credential_signs_in_with_a_bearer_token_at_the_endpoint(
    acs: AcsSmsServer,
) -> None:
    acs.state.bearer_token = secrets.token_urlsafe(16)
    credential = StaticCredential(acs.state.bearer_token)
    sender = build_sms_sender(
        sender_id=SENDER_ID,
        acs_endpoint=acs.endpoint,
        acs_ca_certificate=str(acs.certificate),
        credential=credential,
    )

    sender.send(MOBILE, "Hello", "tag")

    assert credential.scopes == ["https://communication.azure.com//.default"]
    assert acs.requests[0].headers["Authorization"] == f"Bearer {acs.state.bearer_token}"
    assert len(acs.messages) == 1


def test_a_reminder_whose_send_fails_with_5xx_is_sent_once_by_the_next_run(
    acs: AcsSmsServer,
) -> None:
    families = InMemoryFamilies()
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    starts_at = now + timedelta(hours=24)
    families.put_visit(Visit(id="v1", family_id="f1", starts_at=starts_at, status="scheduled"))
    families.put_member(
        Member(id="m1", family_id="f1", display_name="Sam Patel", phone=MOBILE, sms_reminders=True)
    )
    clock = FrozenClock(now)
    claims = InMemoryClaimStore()
    service = ReminderService(
        visits=families,
        members=families,
        claims=claims,
        sender=sender_for(acs),
        templates=SmsTemplates("Family Support"),
        clock=clock,
    )
    acs.fail_next(503)

    first = service.run()
    clock.advance(timedelta(minutes=5))
    second = service.run()
    clock.advance(timedelta(minutes=5))
    third = service.run()

    assert (first.failed, second.sent, third.sent) == (1, 1, 0)
    [message] = acs.messages
    [claim] = claims.all()
    assert claim.status == "sent"
    assert claim.attempts == 2
    assert claim.message_id == message.message_id
    assert message.tag == f"f1/{claim.id}"
    assert message.message.startswith("Hi Sam, Family Support here")
    assert "Patel" not in message.message
    assert "Friday 27 November at 12pm" in message.message
