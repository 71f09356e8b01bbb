"""Message texts: a per-borough template filled with a first name, a day, a time, a service name.

Texts say nothing sensitive: no child's name, no case detail, no word that tells whoever reads
the phone what the service is about beyond the name the borough chose for it. Times are shown
in Europe/London; a time that happens twice (the hour the clocks go back) carries BST or GMT.

A text is kept within ``max_segments`` SMS segments (160 GSM-7 characters for one, 153 each when
split; 70 and 67 when any character needs UCS-2). Typographic quotes and dashes are written as
their plain forms so a service name with a typographic apostrophe does not force UCS-2. A name that
does not fit is written without accents, then left out ("Hi there").
"""

from __future__ import annotations

import math
import string
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from zoneinfo import ZoneInfo

PLACEHOLDERS = frozenset({"first_name", "day", "time", "service"})
FALLBACK_NAME = "there"
MAX_NAME_LENGTH = 24

DEFAULT_REMINDER = (
    "Hi {first_name}, {service} here: a reminder that your visit is on {day} at {time}. "
    "Please do not reply to this text."
)
DEFAULT_CANCELLATION = (
    "Hi {first_name}, {service} here: your visit on {day} at {time} has been cancelled. "
    "Please do not reply to this text."
)
INVITATION = (
    "Hi {first_name}, {service} here: your code to sign in is {code}. It works once, until "
    "{day} at {time}. Please do not reply to this text."
)

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")
PLAIN_FORMS = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u00a0": " ",
        "\u2026": "...",
    }
)

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
WORST_CASE_DAY = datetime(2026, 9, 30, 11, 30, tzinfo=UTC)


class TemplateError(ValueError):
    """A template with an unknown placeholder, or one too long to fit in the segments allowed."""


def plain(text: str) -> str:
    return text.translate(PLAIN_FORMS)


def segments(text: str) -> int:
    """How many SMS segments ``text`` takes."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENDED for char in text):
        septets = sum(2 if char in GSM7_EXTENDED else 1 for char in text)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def first_name(display_name: str) -> str:
    parts = display_name.split()
    return parts[0][:MAX_NAME_LENGTH] if parts else FALLBACK_NAME


def without_accents(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    kept = "".join(char for char in decomposed if not unicodedata.combining(char))
    return "".join(char for char in kept if char in GSM7_BASIC) or FALLBACK_NAME


@dataclass(frozen=True)
class LocalTime:
    day: str
    time: str


def london_time(instant: datetime, timezone: str = "Europe/London") -> LocalTime:
    """Day ("Sunday 25 October") and time ("1:30am", "1:30am GMT" when it happens twice)."""
    zone = ZoneInfo(timezone)
    local = instant.astimezone(zone)
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    clock = f"{hour}{suffix}" if local.minute == 0 else f"{hour}:{local.minute:02d}{suffix}"
    if _happens_twice(local, zone):
        clock += f" {local.tzname()}"
    day = f"{DAYS[local.weekday()]} {local.day} {MONTHS[local.month - 1]}"
    return LocalTime(day=day, time=clock)


def _happens_twice(local: datetime, zone: ZoneInfo) -> bool:
    wall = local.replace(tzinfo=None)
    first, second = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
    return first.utcoffset() != second.utcoffset()


@dataclass(frozen=True)
class SmsTemplates:
    """One borough's texts. Raises ``TemplateError`` at construction when a template is unusable."""

    service_name: str
    reminder: str = DEFAULT_REMINDER
    cancellation: str = DEFAULT_CANCELLATION
    timezone: str = "Europe/London"
    max_segments: int = 2

    def __post_init__(self) -> None:
        if not self.service_name.strip():
            raise TemplateError("The service name is empty.")
        for name, template in (("reminder", self.reminder), ("cancellation", self.cancellation)):
            _check_placeholders(name, template)
            worst = self._fill(template, FALLBACK_NAME, WORST_CASE_DAY)
            if segments(worst) > self.max_segments:
                raise TemplateError(
                    f"The {name} text takes {segments(worst)} SMS segments with the longest "
                    f"day and time; at most {self.max_segments} are allowed."
                )

    def reminder_text(self, display_name: str, starts_at: datetime) -> str:
        return self._render(self.reminder, display_name, starts_at)

    def cancellation_text(self, display_name: str, starts_at: datetime) -> str:
        return self._render(self.cancellation, display_name, starts_at)

    def invitation_text(self, display_name: str, code: str, expires_at: datetime) -> str:
        """The invitation code, grouped in fives for reading aloud, and when it expires."""
        grouped = "-".join(code[i : i + 5] for i in range(0, len(code), 5))
        return self._render(INVITATION.replace("{code}", grouped), display_name, expires_at)

    @cached_property
    def _service(self) -> str:
        return plain(" ".join(self.service_name.split()))

    def _render(self, template: str, display_name: str, starts_at: datetime) -> str:
        name = plain(first_name(display_name))
        names: list[Callable[[str], str]] = [
            lambda n: n,
            without_accents,
            lambda _: FALLBACK_NAME,
        ]
        text = ""
        for variant in names:
            text = self._fill(template, variant(name), starts_at)
            if segments(text) <= self.max_segments:
                return text
        return text

    def _fill(self, template: str, name: str, starts_at: datetime) -> str:
        when = london_time(starts_at, self.timezone)
        return plain(template).format(
            first_name=name, day=when.day, time=when.time, service=self._service
        )


def _check_placeholders(name: str, template: str) -> None:
    for _, field, spec, conversion in string.Formatter().parse(template):
        if field is None:
            continue
        if field not in PLACEHOLDERS or spec or conversion:
            allowed = ", ".join(sorted("{" + p + "}" for p in PLACEHOLDERS))
            raise TemplateError(f"The {name} template may only use {allowed}.")
