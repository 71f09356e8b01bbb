"""A local outbox instead of a gateway: each text becomes one JSON line a developer can read.

``tail -f .local/outbox/sms.jsonl`` shows what the families would have received. Writes are
appended whole under a lock, so concurrent senders in one process never interleave lines.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from shared.sms.port import SendResult

DEFAULT_OUTBOX = Path(".local/outbox/sms.jsonl")


class OutboxSmsSender:
    def __init__(
        self,
        path: Path = DEFAULT_OUTBOX,
        sender_id: str = "FamilyStory",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.path = path
        self._sender_id = sender_id
        self._clock = clock
        self._lock = threading.Lock()

    def send(self, to_e164: str, text: str, tag: str) -> SendResult:
        message_id = f"outbox-{uuid.uuid4()}"
        line = json.dumps(
            {
                "at": self._clock().astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "messageId": message_id,
                "from": self._sender_id,
                "to": to_e164,
                "text": text,
                "tag": tag,
            },
            ensure_ascii=False,
        )
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as outbox:
                outbox.write(line + "\n")
        return SendResult(message_id=message_id, to=to_e164)

    def read(self) -> list[dict[str, str]]:
        """Every text in the outbox, oldest first."""
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]
