"""Texts in the family's language, checked without reading the language: every shipped text says
all its English counterpart says, renders with real values, and stays within its segment budget."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from shared.sms.language_tags import InvalidLanguageTagError, best_match, normalise_tag
from shared.sms.languages import SHIPPED, LanguageSettingsError, borough_languages
from shared.sms.templates import (
    FAMILY_TEXTS,
    PLACEHOLDERS,
    SmsTemplates,
    TemplateError,
    placeholders_of,
    segments,
    worst_segments,
)

SERVICES = ("Family Support", "Kensington and Chelsea Children and Family Services")
LONGEST_SERVICE = "Royal Borough of Kensington and Chelsea Family Services Team"  # 60, Bicep's most
WHEN = datetime(2026, 11, 26, 14, 30, tzinfo=UTC)
CASES = [(tag, name) for tag in SHIPPED for name in FAMILY_TEXTS]


@pytest.mark.parametrize(("tag", "name"), CASES)
def test_every_shipped_text_uses_every_placeholder_its_english_one_does(
    tag: str, name: str
) -> None:
    english = getattr(SHIPPED["en"], name)
    assert placeholders_of(getattr(SHIPPED[tag], name)) == placeholders_of(english)
    assert placeholders_of(english) == set(PLACEHOLDERS[name])


@pytest.mark.parametrize(("tag", "name"), CASES)
@pytest.mark.parametrize("service", SERVICES)
def test_every_shipped_text_fits_its_budget_with_the_longest_day_time_and_name(
    tag: str, name: str, service: str
) -> None:
    language = SHIPPED[tag]
    worst = worst_segments(language, name, getattr(language, name), service, "Europe/London")
    assert worst <= language.max_segments


@pytest.mark.parametrize("tag", list(SHIPPED))
def test_every_shipped_language_renders_the_name_day_time_and_code(tag: str) -> None:
    texts = SmsTemplates("Family Support")
    reminder = texts.reminder_text("Zofia Nowak", WHEN, tag)
    cancellation = texts.cancellation_text("Zofia Nowak", WHEN, tag)
    invitation = texts.invitation_text("Zofia Nowak", "K7QZ3MXP2R", WHEN, tag)

    for text in (reminder, cancellation, invitation):
        assert "Zofia" in text
        assert "Nowak" not in text
        assert "Family Support" in text
        assert "{" not in text
    assert "K7QZ3-MXP2R" in invitation
    assert ("2:30pm" if tag == "en" else "14:30") in reminder
    assert "26" in reminder


def test_polish_and_romanian_write_the_day_in_their_own_words_and_cost_ucs2() -> None:
    texts = SmsTemplates("Family Support")
    polish = texts.reminder_text("Ola", WHEN, "pl")
    romanian = texts.reminder_text("Ana", WHEN, "ro")

    assert "czwartek, 26 listopada" in polish
    assert "joi, 26 noiembrie" in romanian
    assert segments(polish) == 2
    assert segments(texts.reminder_text("Ola", WHEN, "en")) == 1


def test_a_member_gets_their_language_where_the_borough_has_it_else_english() -> None:
    texts = SmsTemplates("Family Support")
    assert texts.language_for("pl-PL") == "pl"
    assert texts.language_for("ro") == "ro"
    assert texts.language_for("so") == "en"
    assert texts.language_for(None) == "en"
    assert texts.reminder_text("Ali", WHEN, "so").startswith("Hi Ali")


def test_language_tags_are_bcp_47_in_their_standard_form() -> None:
    assert normalise_tag("PL-pl") == "pl-PL"
    assert normalise_tag("zh-hant") == "zh-Hant"
    for bad in ("", "english", "en_GB", "x", "pl-", "12", "pl-PL-" + "a" * 40):
        with pytest.raises(InvalidLanguageTagError):
            normalise_tag(bad)
    assert best_match("not a tag", {"en", "pl"}) == "en"


def test_a_borough_changes_and_adds_languages_in_a_setting() -> None:
    somali = {
        "reminder": "{first_name}, {service}: booqasho {day} {time}.",
        "cancellation": "{first_name}, {service}: booqashada {day} {time} waa la joojiyay.",
        "invitation": "{first_name}, {service}: koodhkaagu waa {code}, ilaa {day} {time}.",
        "fallbackName": "Salaan",
        "dayPattern": "EEEE d MMMM",
        "timePattern": "HH:mm",
    }
    custom = json.dumps({"so": somali, "pl": {"fallbackName": "Witamy"}})
    languages = borough_languages("en,pl,so", custom)
    texts = SmsTemplates("Family Support", languages=languages)

    assert set(texts.language_tags) == {"en", "pl", "so"}
    assert texts.reminder_text("Ali", WHEN, "so").startswith("Ali, Family Support: booqasho")
    assert languages["pl"].fallback_name == "Witamy"
    assert "ro" not in borough_languages("en,pl", "")


@pytest.mark.parametrize(
    ("enabled", "custom", "problem"),
    [
        ("en,xx-invalid-", "", "BCP 47"),
        ("en,so", "", "no shipped texts"),
        ("en", "[1]", "object of languages"),
        ("en", "{", "not JSON"),
        ("en", '{"pl": {"colour": "red"}}', "only"),
        ("en,so", '{"so": {"reminder": "{day} {time}"}}', "needs reminder"),
    ],
)
def test_unusable_language_settings_are_refused_with_what_is_wrong(
    enabled: str, custom: str, problem: str
) -> None:
    with pytest.raises(LanguageSettingsError, match=problem):
        borough_languages(enabled, custom)


def test_a_translation_that_loses_the_time_or_runs_long_is_left_out_for_english() -> None:
    without_time = json.dumps({"pl": {"reminder": "{first_name}: wizyta {day}."}})
    lost = SmsTemplates("Family Support", languages=borough_languages("en,pl", without_time))
    too_long = json.dumps({"ro": {"reminder": "{day} {time} " + "ț" * 200}})
    long = SmsTemplates("Family Support", languages=borough_languages("en,ro", too_long))

    assert "must say" in lost.refused["pl"]
    assert lost.language_for("pl") == "en"
    assert "segments" in long.refused["ro"]
    assert long.reminder_text("Ana", WHEN, "ro").startswith("Hi Ana")


def test_the_longest_service_name_never_stops_the_texts() -> None:
    texts = SmsTemplates(LONGEST_SERVICE)
    for tag in SHIPPED:
        text = texts.invitation_text("Ana", "K7QZ3MXP2R", WHEN, tag)
        assert "K7QZ3-MXP2R" in text
        budget = SHIPPED[texts.language_for(tag)].max_segments
        assert segments(text) <= budget


def test_an_english_template_that_cannot_be_used_is_refused() -> None:
    with pytest.raises(TemplateError, match="must say"):
        SmsTemplates("Family Support", reminder="{first_name}: your visit is on {day}.")
