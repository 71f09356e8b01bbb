"""An in-memory SMS sender for tests: records what was sent and fails on request."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass

from shared.sms.port import SendResult, SmsError


@dataclass(frozen=True)
class SentSms:
    to: str
    text: str
    tag: str
    message_id: str


class MemorySmsSender:
    def __init__(self) -> None:
        self.sent: list[SentSms] = []
        self.attempts = 0
        self._failures: list[SmsError] = []
        self._lock = threading.Lock()

    def fail_next(self, error: SmsError, times: int = 1) -> None:
        with self._lock:
            self._failures.extend([error] * times)

    def send(self, to_e164: str, text: str, tag: str) -> SendResult:
        with self._lock:
            self.attempts += 1
            if self._failures:
                raise self._failures.pop(0)
            message = SentSms(to_e164, text, tag, f"memory-{uuid.uuid4()}")
            self.sent.append(message)
        return SendResult(message_id=message.message_id, to=to_e164)
