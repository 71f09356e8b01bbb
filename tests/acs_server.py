"""A local HTTPS server that speaks the ACS SMS send API, for the real ``SmsClient`` to call.

It implements ``POST /sms?api-version=...`` as ACS does:

- access-key requests must carry ``x-ms-date`` (within 15 minutes of now), ``x-ms-content-sha256``
  (base64 SHA-256 of the body) and ``Authorization: HMAC-SHA256 SignedHeaders=x-ms-date;host;
  x-ms-content-sha256&Signature=<sig>``, where ``sig`` is the base64 HMAC-SHA256, keyed with the
  base64-decoded access key, of ``"POST\\n<path and query>\\n<x-ms-date>;<host>;<content hash>"``;
  anything else gets 401. A ``bearer_token`` set on the server is accepted instead (identity);
- a good request gets ``202`` with ``{"value": [{to, messageId, httpStatusCode, successful,
  repeatabilityResult}]}``, one item per recipient, and the same ``repeatabilityRequestId``
  sent again gets the first answer back without a second text (ACS's repeatability);
- ``fail_next`` makes the next requests fail with a status of choice, ``reject`` makes one
  recipient fail inside a 202, as ACS does for a number it will not text, and ``drop_next``
  accepts a text but loses the answer (the connection closes).

Everything accepted is kept in ``messages``; every request, good or bad, in ``requests``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import ssl
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from local.certs import ensure_dev_certificate

SIGNED_HEADERS = "x-ms-date;host;x-ms-content-sha256"
MAX_CLOCK_SKEW = timedelta(minutes=15)


@dataclass(frozen=True)
class ReceivedSms:
    sender: str
    to: str
    message: str
    enable_delivery_report: bool
    tag: str | None
    message_id: str
    repeatability_request_id: str | None
    api_version: str


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    status: int
    headers: dict[str, str]


@dataclass
class AcsState:
    access_key: str
    bearer_token: str | None = None
    messages: list[ReceivedSms] = field(default_factory=list)
    requests: list[ReceivedRequest] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)
    drops: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class AcsSmsServer:
    def __init__(self, cert_dir: Path) -> None:
        key, cert = ensure_dev_certificate(cert_dir)
        self.certificate = cert
        self.state = AcsState(access_key=base64.b64encode(secrets.token_bytes(32)).decode())
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self._server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def endpoint(self) -> str:
        return f"https://localhost:{self.port}"

    @property
    def connection_string(self) -> str:
        return f"endpoint={self.endpoint}/;accesskey={self.state.access_key}"

    @property
    def messages(self) -> list[ReceivedSms]:
        with self.state.lock:
            return list(self.state.messages)

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self.state.lock:
            return list(self.state.requests)

    def fail_next(self, status: int = 503, times: int = 1) -> None:
        with self.state.lock:
            self.state.failures.extend([status] * times)

    def drop_next(self) -> None:
        """Accept the next text, then close the connection without answering."""
        with self.state.lock:
            self.state.drops += 1

    def reject(self, to: str, status: int = 400) -> None:
        with self.state.lock:
            self.state.rejected[to] = status

    def start(self) -> AcsSmsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@contextmanager
def running_acs_server(cert_dir: Path) -> Iterator[AcsSmsServer]:
    server = AcsSmsServer(cert_dir).start()
    try:
        yield server
    finally:
        server.stop()


def sign(
    access_key: str, method: str, path_and_query: str, date: str, host: str, body: bytes
) -> str:
    content_hash = base64.b64encode(hashlib.sha256(body).digest()).decode()
    string_to_sign = f"{method}\n{path_and_query}\n{date};{host};{content_hash}"
    digest = hmac.new(base64.b64decode(access_key), string_to_sign.encode(), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


def _handler(state: AcsState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            url = urlsplit(self.path)
            if url.path != "/sms":
                self._answer(404, {"error": {"code": "NotFound", "message": "No such path."}})
                return
            api_version = parse_qs(url.query).get("api-version", [""])[0]
            if not api_version:
                self._answer(400, {"error": {"code": "BadRequest", "message": "api-version?"}})
                return
            problem = self._authentication_problem(body)
            if problem:
                self._answer(401, {"error": {"code": "Denied", "message": problem}})
                return
            with state.lock:
                failure = state.failures.pop(0) if state.failures else None
            if failure is not None:
                self._answer(failure, {"error": {"code": "ServiceError", "message": "Failed."}})
                return
            try:
                request = json.loads(body)
                recipients = request["smsRecipients"]
                sender, message = request["from"], request["message"]
            except (ValueError, KeyError, TypeError):
                self._answer(400, {"error": {"code": "BadRequest", "message": "Bad body."}})
                return
            options = request.get("smsSendOptions") or {}
            items = [
                self._accept(recipient, sender, message, options, api_version)
                for recipient in recipients
            ]
            with state.lock:
                dropped, state.drops = state.drops > 0, max(0, state.drops - 1)
            if dropped:
                self.close_connection = True
                return
            self._answer(202, {"value": items})

        def _accept(
            self,
            recipient: dict[str, Any],
            sender: str,
            message: str,
            options: dict[str, Any],
            api_version: str,
        ) -> dict[str, Any]:
            to = str(recipient["to"])
            repeatability = recipient.get("repeatabilityRequestId")
            with state.lock:
                if repeatability and repeatability in state.answers:
                    return {**state.answers[repeatability], "repeatabilityResult": "accepted"}
                rejected = state.rejected.get(to)
                if rejected is not None:
                    return {
                        "to": to,
                        "httpStatusCode": rejected,
                        "successful": False,
                        "errorMessage": "Invalid To phone number format.",
                    }
                message_id = f"Outgoing_{datetime.now(UTC):%Y%m%d%H%M%S}{uuid.uuid4()}_noam"
                state.messages.append(
                    ReceivedSms(
                        sender=sender,
                        to=to,
                        message=message,
                        enable_delivery_report=bool(options.get("enableDeliveryReport")),
                        tag=options.get("tag"),
                        message_id=message_id,
                        repeatability_request_id=repeatability,
                        api_version=api_version,
                    )
                )
                answer = {
                    "to": to,
                    "messageId": message_id,
                    "httpStatusCode": 202,
                    "repeatabilityResult": "accepted",
                    "successful": True,
                }
                if repeatability:
                    state.answers[repeatability] = answer
                return answer

        def _authentication_problem(self, body: bytes) -> str | None:
            authorization = self.headers.get("Authorization") or ""
            if state.bearer_token and authorization == f"Bearer {state.bearer_token}":
                return None
            scheme, _, parameters = authorization.partition(" ")
            fields = dict(part.partition("=")[::2] for part in parameters.split("&"))
            if scheme != "HMAC-SHA256" or fields.get("SignedHeaders") != SIGNED_HEADERS:
                return "Expected HMAC-SHA256 with SignedHeaders=x-ms-date;host;x-ms-content-sha256."
            date, host = self.headers.get("x-ms-date"), self.headers.get("Host")
            content_hash = self.headers.get("x-ms-content-sha256")
            if not date or not host or not content_hash:
                return "x-ms-date, Host and x-ms-content-sha256 are required."
            try:
                sent_at = parsedate_to_datetime(date)
            except (TypeError, ValueError):
                return "x-ms-date is not an HTTP date."
            if abs(datetime.now(UTC) - sent_at) > MAX_CLOCK_SKEW:
                return "x-ms-date is too far from now."
            if content_hash != base64.b64encode(hashlib.sha256(body).digest()).decode():
                return "x-ms-content-sha256 does not match the body."
            expected = sign(state.access_key, self.command, self.path, date, host, body)
            if not hmac.compare_digest(expected, fields.get("Signature", "")):
                return "The signature does not match."
            return None

        def _answer(self, status: int, document: dict[str, Any]) -> None:
            payload = json.dumps(document).encode()
            with state.lock:
                state.requests.append(
                    ReceivedRequest(self.command, self.path, status, dict(self.headers.items()))
                )
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            if status == 202:
                self.send_header("MS-CV", uuid.uuid4().hex)
            self.end_headers()
            self.wfile.write(payload)

    return Handler
