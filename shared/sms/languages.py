"""The texts families get, per language: the ones shipped, and how a borough adds its own.

A ``Language`` holds one language's templates and how it writes a day and a time (CLDR
patterns, rendered by Babel). English is the borough's working language: it is the fallback for
every family member and the only language of the texts staff get (safety alerts).

Shipped: English, Polish and Romanian, the two languages other than English most spoken in
London homes with Latin script (2021 census). Their words were written for this service and
must be read by a speaker before a borough turns them on for families (``SMS_LANGUAGES``); the
tests check, whoever reads them, that each renders every placeholder the English one does and
stays within its segment budget.

A borough edits texts without a code change: ``SMS_LANGUAGE_TEMPLATES`` is a JSON object from a
BCP 47 tag to fields of a ``Language`` (camelCase), replacing the shipped ones field by field or
adding a language, and ``SMS_LANGUAGES`` says which languages families may get.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

ENGLISH = "en"
UCS2_BUDGET = 3

DEFAULT_REMINDER = (
    "Hi {first_name}, {service} here: a reminder that your visit is on {day} at {time}. "
    "Please do not reply to this text."
)
DEFAULT_CANCELLATION = (
    "Hi {first_name}, {service} here: your visit on {day} at {time} has been cancelled. "
    "Please do not reply to this text."
)
DEFAULT_INVITATION = (
    "Hi {first_name}, {service} here: your code to sign in is {code}. It works once, until "
    "{day} at {time}. Please do not reply to this text."
)
DEFAULT_SAFETY = (
    "FamilyStory: a family member has asked for help. Open FamilyStory now (safety alert "
    "{reference}). Please do not reply to this text."
)
DEFAULT_ESCALATION = (
    "FamilyStory: a family member asked for help {minutes} min ago and no one has "
    "acknowledged it. Safety alert {reference}: please act now. Do not reply."
)


@dataclass(frozen=True)
class Language:
    """One language's texts. ``day_pattern``/``time_pattern`` are CLDR patterns (Babel); None
    is the English form ("Thursday 26 November", "2:30pm"). ``fallback_name`` stands where a
    first name does not fit. ``safety``/``escalation`` are read from English only."""

    tag: str
    reminder: str
    cancellation: str
    invitation: str
    fallback_name: str
    day_pattern: str | None = None
    time_pattern: str | None = None
    max_segments: int = UCS2_BUDGET
    safety: str | None = None
    escalation: str | None = None


SHIPPED: dict[str, Language] = {
    "en": Language(
        tag="en",
        reminder=DEFAULT_REMINDER,
        cancellation=DEFAULT_CANCELLATION,
        invitation=DEFAULT_INVITATION,
        fallback_name="there",
        max_segments=2,
        safety=DEFAULT_SAFETY,
        escalation=DEFAULT_ESCALATION,
    ),
    "pl": Language(
        tag="pl",
        reminder=(
            "{first_name}, {service} przypomina o wizycie: {day}, godz. {time}. "
            "Prosimy nie odpowiadać na tę wiadomość."
        ),
        cancellation=(
            "{first_name}, {service} informuje: wizyta ({day}, godz. {time}) została odwołana. "
            "Prosimy nie odpowiadać na tę wiadomość."
        ),
        invitation=(
            "{first_name}, {service}: Twój kod logowania to {code}, jednorazowy, ważny do: "
            "{day}, godz. {time}. Prosimy nie odpowiadać."
        ),
        fallback_name="Dzień dobry",
        day_pattern="EEEE, d MMMM",
        time_pattern="HH:mm",
    ),
    "ro": Language(
        tag="ro",
        reminder=(
            "{first_name}, {service} vă reamintește de vizita de {day}, ora {time}. "
            "Vă rugăm să nu răspundeți la acest mesaj."
        ),
        cancellation=(
            "{first_name}, {service} vă anunță că vizita de {day}, ora {time}, a fost anulată. "
            "Vă rugăm să nu răspundeți la acest mesaj."
        ),
        invitation=(
            "{first_name}, {service}: codul de conectare este {code}, valabil o singură dată, "
            "până {day}, ora {time}. Vă rugăm să nu răspundeți."
        ),
        fallback_name="Bună ziua",
        day_pattern="EEEE, d MMMM",
        time_pattern="HH:mm",
    ),
}

FIELD_NAMES = {
    "reminder": "reminder",
    "cancellation": "cancellation",
    "invitation": "invitation",
    "fallbackName": "fallback_name",
    "dayPattern": "day_pattern",
    "timePattern": "time_pattern",
    "maxSegments": "max_segments",
    "safety": "safety",
    "escalation": "escalation",
}


class LanguageSettingsError(ValueError):
    """``SMS_LANGUAGES`` or ``SMS_LANGUAGE_TEMPLATES`` cannot be used."""


def borough_languages(
    enabled: str,
    overrides: str,
    reminder: str = "",
    cancellation: str = "",
) -> dict[str, Language]:
    """The languages families may get, from the settings: the shipped ones named in ``enabled``
    (English always), changed or added by the JSON ``overrides``; ``reminder`` and
    ``cancellation`` (``SMS_REMINDER_TEMPLATE`` and ``SMS_CANCELLATION_TEMPLATE``) replace the
    English ones when set."""
    from shared.sms.language_tags import normalise_tag

    custom = _parse_overrides(overrides)
    chosen: dict[str, Language] = {}
    wanted = [ENGLISH, *(part.strip() for part in enabled.split(",") if part.strip())]
    for raw in wanted:
        try:
            tag = normalise_tag(raw)
        except ValueError:
            raise LanguageSettingsError(f"SMS_LANGUAGES: {raw!r} is not a BCP 47 tag.") from None
        base = SHIPPED.get(tag)
        changes = custom.get(tag)
        if base is None and changes is None:
            raise LanguageSettingsError(
                f"SMS_LANGUAGES names {tag}, which has no shipped texts and none in "
                "SMS_LANGUAGE_TEMPLATES."
            )
        chosen[tag] = _language(tag, base, changes or {})
    english = chosen[ENGLISH]
    chosen[ENGLISH] = replace(
        english,
        reminder=reminder or english.reminder,
        cancellation=cancellation or english.cancellation,
    )
    return chosen


def _parse_overrides(text: str) -> dict[str, dict[str, Any]]:
    from shared.sms.language_tags import normalise_tag

    if not text.strip():
        return {}
    try:
        document = json.loads(text)
    except ValueError:
        raise LanguageSettingsError("SMS_LANGUAGE_TEMPLATES is not JSON.") from None
    if not isinstance(document, dict):
        raise LanguageSettingsError("SMS_LANGUAGE_TEMPLATES must be an object of languages.")
    parsed: dict[str, dict[str, Any]] = {}
    for raw, entry in document.items():
        try:
            tag = normalise_tag(str(raw))
        except ValueError:
            raise LanguageSettingsError(f"SMS_LANGUAGE_TEMPLATES: {raw!r} is not BCP 47.") from None
        if not isinstance(entry, Mapping) or set(entry) - set(FIELD_NAMES):
            allowed = ", ".join(sorted(FIELD_NAMES))
            raise LanguageSettingsError(
                f"SMS_LANGUAGE_TEMPLATES[{tag}] must be an object with only: {allowed}."
            )
        parsed[tag] = {FIELD_NAMES[key]: value for key, value in entry.items()}
    return parsed


def _language(tag: str, base: Language | None, changes: Mapping[str, Any]) -> Language:
    known = {field.name for field in fields(Language)}
    if base is None:
        missing = {"reminder", "cancellation", "invitation", "fallback_name"} - set(changes)
        if missing:
            raise LanguageSettingsError(
                f"SMS_LANGUAGE_TEMPLATES[{tag}] adds a language, so it needs reminder, "
                "cancellation, invitation and fallbackName."
            )
        return Language(tag=tag, **{k: v for k, v in changes.items() if k in known})
    return replace(base, **{k: v for k, v in changes.items() if k in known})
