"""Message texts: a per-borough template filled with a first name, a day, a time, a service name,
in the member's language where the borough has texts in it (``shared.sms.languages``).

Texts say nothing sensitive: no child's name, no case detail, no word that tells whoever reads
the phone what the service is about beyond the name the borough chose for it. Times are shown
in Europe/London; a time that happens twice (the hour the clocks go back) carries BST or GMT.
Staff texts (safety alerts) carry no name, no message and no family at all: a reference only.

A text is kept within its language's segment budget (160 GSM-7 characters for one segment, 153
each when split; 70 and 67 when any character needs UCS-2, as every Polish or Romanian text
does): two segments in English, three in the others. Every template is checked against that
budget with the longest day, time and name, when the texts are built. Typographic quotes and
dashes are written as their plain forms so a service name with a typographic apostrophe does not
force UCS-2. A name that does not fit is written without accents, then left out ("Hi there").
"""

from __future__ import annotations

import logging
import math
import string
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo

from shared.sms.language_tags import best_match
from shared.sms.languages import (
    DEFAULT_CANCELLATION,
    DEFAULT_ESCALATION,
    DEFAULT_REMINDER,
    DEFAULT_SAFETY,
    ENGLISH,
    SHIPPED,
    Language,
)

log = logging.getLogger("familystory.sms")

__all__ = [
    "DEFAULT_CANCELLATION",
    "DEFAULT_REMINDER",
    "PLACEHOLDERS",
    "REQUIRED",
    "SmsTemplates",
    "TemplateError",
    "london_time",
    "segments",
]

TIMED = frozenset({"first_name", "day", "time", "service"})
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "reminder": TIMED,
    "cancellation": TIMED,
    "invitation": TIMED | {"code"},
    "safety": frozenset({"service", "reference"}),
    "escalation": frozenset({"service", "reference", "minutes"}),
}
"""What each text may say."""
REQUIRED: dict[str, frozenset[str]] = {
    "reminder": frozenset({"day", "time"}),
    "cancellation": frozenset({"day", "time"}),
    "invitation": frozenset({"code", "day", "time"}),
    "safety": frozenset(),
    "escalation": frozenset(),
}
"""What each text must say, or it is useless."""
FAMILY_TEXTS = ("reminder", "cancellation", "invitation")
STAFF_TEXTS = ("safety", "escalation")
STAFF_BUDGET = 2
FALLBACK_NAME = "there"
MAX_NAME_LENGTH = 24
WORST_CODE = "XXXXX-XXXXX"
WORST_REFERENCE = "XXXXXXXX"
WORST_MINUTES = "1440"

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
AMBIGUOUS_HOUR = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


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


def first_name(display_name: str, fallback: str = FALLBACK_NAME) -> str:
    parts = display_name.split()
    return parts[0][:MAX_NAME_LENGTH] if parts else fallback


def without_accents(name: str, fallback: str = FALLBACK_NAME) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    kept = "".join(char for char in decomposed if not unicodedata.combining(char))
    return "".join(char for char in kept if char in GSM7_BASIC) or fallback


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
    """One borough's texts. Raises ``TemplateError`` at construction when a template is unusable.

    ``reminder`` and ``cancellation`` are the English ones (the borough's own, or the default);
    ``languages`` the others families may get (default: the shipped ones); ``max_segments``
    the English budget."""

    service_name: str
    reminder: str = DEFAULT_REMINDER
    cancellation: str = DEFAULT_CANCELLATION
    timezone: str = "Europe/London"
    max_segments: int = 2
    languages: Mapping[str, Language] = field(default_factory=lambda: dict(SHIPPED))

    def __post_init__(self) -> None:
        if not self.service_name.strip():
            raise TemplateError("The service name is empty.")
        _check_language(self._configured[ENGLISH], self._service, self.timezone)
        for tag, problem in self.refused.items():
            log.error("texts in %s left out, its members get English: %s", tag, problem)

    @cached_property
    def refused(self) -> dict[str, str]:
        """Languages other than English whose texts cannot be used here (a placeholder missing,
        or over the budget with this borough's service name), and why. Their members get texts
        in English rather than none: English is checked strictly (``TemplateError``)."""
        problems: dict[str, str] = {}
        for tag, language in self._configured.items():
            if tag == ENGLISH:
                continue
            try:
                _check_language(language, self._service, self.timezone)
            except TemplateError as error:
                problems[tag] = str(error)
        return problems

    @cached_property
    def _languages(self) -> dict[str, Language]:
        return {tag: lang for tag, lang in self._configured.items() if tag not in self.refused}

    @cached_property
    def _configured(self) -> dict[str, Language]:
        english = self.languages.get(ENGLISH) or SHIPPED[ENGLISH]
        english = Language(
            tag=ENGLISH,
            reminder=self.reminder,
            cancellation=self.cancellation,
            invitation=english.invitation,
            fallback_name=english.fallback_name,
            day_pattern=english.day_pattern,
            time_pattern=english.time_pattern,
            max_segments=self.max_segments,
            safety=english.safety or DEFAULT_SAFETY,
            escalation=english.escalation or DEFAULT_ESCALATION,
        )
        others = {tag: language for tag, language in self.languages.items() if tag != ENGLISH}
        return {ENGLISH: english, **others}

    @property
    def language_tags(self) -> tuple[str, ...]:
        return tuple(self._languages)

    def language_for(self, tag: str | None) -> str:
        """The language a member with ``preferredLanguage`` ``tag`` gets texts in."""
        return best_match(tag, self._languages)

    def reminder_text(
        self, display_name: str, starts_at: datetime, language: str | None = None
    ) -> str:
        lang = self._language(language)
        return self._render(lang, lang.reminder, display_name, starts_at)

    def cancellation_text(
        self, display_name: str, starts_at: datetime, language: str | None = None
    ) -> str:
        lang = self._language(language)
        return self._render(lang, lang.cancellation, display_name, starts_at)

    def invitation_text(
        self, display_name: str, code: str, expires_at: datetime, language: str | None = None
    ) -> str:
        """The invitation code, grouped in fives for reading aloud, and when it expires."""
        lang = self._language(language)
        return self._render(lang, lang.invitation, display_name, expires_at, code=_grouped(code))

    def safety_text(self, reference: str) -> str:
        """What staff get when a family member asks for help: no name, no message, no family."""
        english = self._languages[ENGLISH]
        return plain(english.safety or DEFAULT_SAFETY).format(
            service=self._service, reference=reference
        )

    def escalation_text(self, reference: str, minutes: int) -> str:
        """What the duty team gets when no one acknowledged an alert in time."""
        english = self._languages[ENGLISH]
        return plain(english.escalation or DEFAULT_ESCALATION).format(
            service=self._service, reference=reference, minutes=str(minutes)
        )

    def _language(self, tag: str | None) -> Language:
        return self._languages[self.language_for(tag)]

    @cached_property
    def _service(self) -> str:
        return plain(" ".join(self.service_name.split()))

    def _render(
        self,
        language: Language,
        template: str,
        display_name: str,
        starts_at: datetime,
        code: str = "",
    ) -> str:
        name = plain(first_name(display_name, language.fallback_name))
        names: list[Callable[[str], str]] = [
            lambda n: n,
            lambda n: without_accents(n, language.fallback_name),
            lambda _: language.fallback_name,
        ]
        text = ""
        for variant in names:
            text = _fill(
                language, template, variant(name), starts_at, self._service, code, self.timezone
            )
            if segments(text) <= language.max_segments:
                return text
        return text


def _grouped(code: str) -> str:
    return "-".join(code[i : i + 5] for i in range(0, len(code), 5))


def local_time(language: Language, instant: datetime, timezone: str) -> LocalTime:
    """Day and time as ``language`` writes them, in the borough's zone."""
    if language.day_pattern is None or language.time_pattern is None:
        return london_time(instant, timezone)
    from babel import Locale
    from babel.dates import format_date, format_time

    zone = ZoneInfo(timezone)
    local = instant.astimezone(zone)
    locale = Locale.parse(language.tag, sep="-")
    clock = format_time(local.replace(tzinfo=None), language.time_pattern, locale=locale)
    if _happens_twice(local, zone):
        clock += f" {local.tzname()}"
    return LocalTime(day=format_date(local.date(), language.day_pattern, locale=locale), time=clock)


def _fill(
    language: Language,
    template: str,
    name: str,
    starts_at: datetime,
    service: str,
    code: str = "",
    timezone: str = "Europe/London",
) -> str:
    when = local_time(language, starts_at, timezone)
    return plain(template).format(
        first_name=name, day=when.day, time=when.time, service=service, code=code
    )


def worst_case_instants() -> list[datetime]:
    """An instant on every weekday of every month (two-digit days), and one in the hour that
    happens twice: the longest day and time any language writes is among them."""
    found = [AMBIGUOUS_HOUR, WORST_CASE_DAY]
    for month in range(1, 13):
        first = date(2026, month, 10)
        for offset in range(7):
            day = first + timedelta(days=offset)
            found.append(datetime(day.year, day.month, day.day, 11, 30, tzinfo=UTC))
    return found


def _check_language(language: Language, service: str, timezone: str) -> None:
    if not language.fallback_name.strip():
        raise TemplateError(f"The {language.tag} texts need a fallback name.")
    if language.day_pattern is not None or language.time_pattern is not None:
        _check_locale(language)
    texts = {name: getattr(language, name) for name in FAMILY_TEXTS}
    if language.tag == ENGLISH:
        texts |= {name: getattr(language, name) for name in STAFF_TEXTS}
    for name, template in texts.items():
        if template is None:
            continue
        _check_placeholders(name, template, language.tag)
        worst = worst_segments(language, name, template, service, timezone)
        budget = STAFF_BUDGET if name in STAFF_TEXTS else language.max_segments
        if worst > budget:
            raise TemplateError(
                f"The {language.tag} {name} text takes {worst} SMS segments with the longest "
                f"day and time; at most {budget} are allowed."
            )


def _check_locale(language: Language) -> None:
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(language.tag, sep="-")
    except (UnknownLocaleError, ValueError):
        raise TemplateError(f"Days and times cannot be written in {language.tag}.") from None


@lru_cache(maxsize=256)
def worst_segments(
    language: Language, name: str, template: str, service: str, timezone: str
) -> int:
    """The most segments ``template`` takes, with the fallback name, the longest day and time."""
    if name in STAFF_TEXTS:
        text = plain(template).format(
            service=service, reference=WORST_REFERENCE, minutes=WORST_MINUTES
        )
        return segments(text)
    return max(
        segments(
            _fill(language, template, language.fallback_name, when, service, WORST_CODE, timezone)
        )
        for when in worst_case_instants()
    )


def _check_placeholders(name: str, template: str, tag: str = ENGLISH) -> None:
    allowed, required = PLACEHOLDERS[name], REQUIRED[name]
    used: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        raise TemplateError(f"The {tag} {name} template has an unbalanced brace.") from None
    for _, placeholder, spec, conversion in parsed:
        if placeholder is None:
            continue
        if placeholder not in allowed or spec or conversion:
            names = ", ".join(sorted("{" + p + "}" for p in allowed))
            raise TemplateError(f"The {tag} {name} template may only use {names}.")
        used.add(placeholder)
    if required - used:
        needed = ", ".join(sorted("{" + p + "}" for p in required))
        raise TemplateError(f"The {tag} {name} template must say {needed}.")


def placeholders_of(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}
