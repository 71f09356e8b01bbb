"""The SMS port: what the app needs from a text-message gateway, and how a send can fail.

A failed send is one of three kinds, because the caller must decide whether to try again:

- ``SmsTransientError``: the gateway did not accept the text, and trying later may work
  (throttled, a 5xx, no connection, credentials that could not be obtained). Nothing was sent.
- ``SmsPermanentError``: the gateway refused this text for good (an invalid number, a bad
  request). Nothing was sent, and sending it again would fail again.
- ``SmsOutcomeUnknownError``: the request may have reached the gateway but no answer came
  back (the connection dropped or timed out after the request was written). The text may or
  may not have gone, so sending it again could text a family twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class SmsError(Exception):
    """A text was not (known to be) sent. ``reason`` is short and safe to store."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SmsTransientError(SmsError):
    """Nothing was sent; the same text may be sent again later."""


class SmsPermanentError(SmsError):
    """Nothing was sent, and the gateway will never accept this text."""


class SmsOutcomeUnknownError(SmsError):
    """The text may have been sent; do not send it again automatically."""


@dataclass(frozen=True)
class SendResult:
    message_id: str
    to: str


class SmsSender(Protocol):
    def send(self, to_e164: str, text: str, tag: str) -> SendResult:
        """Send ``text`` to one E.164 number. ``tag`` comes back in the delivery report.

        Raises ``SmsTransientError``, ``SmsPermanentError`` or ``SmsOutcomeUnknownError``.
        """
        ...
