"""Text messages: the SMS port, the local-outbox sender, numbers and message texts.

The ACS sender is an adapter (``shared.adapters.acs_sms``); ``shared.adapters.sms`` chooses
between them from the settings.
"""

from __future__ import annotations

from shared.sms.outbox import DEFAULT_OUTBOX, OutboxSmsSender
from shared.sms.phone import InvalidPhoneNumberError, normalise_mobile
from shared.sms.port import (
    SendResult,
    SmsError,
    SmsOutcomeUnknownError,
    SmsPermanentError,
    SmsSender,
    SmsTransientError,
)
from shared.sms.templates import SmsTemplates, TemplateError

__all__ = [
    "DEFAULT_OUTBOX",
    "InvalidPhoneNumberError",
    "OutboxSmsSender",
    "SendResult",
    "SmsError",
    "SmsOutcomeUnknownError",
    "SmsPermanentError",
    "SmsSender",
    "SmsTemplates",
    "SmsTransientError",
    "TemplateError",
    "normalise_mobile",
]
