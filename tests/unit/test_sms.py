from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.adapters.acs_sms import AcsSmsConfig, AcsSmsSender
from shared.adapters.sms import build_sms_sender
from shared.sms.outbox import OutboxSmsSender
from shared.sms.phone import InvalidPhoneNumberError, normalise_mobile
from shared.sms.templates import SmsTemplates, TemplateError, london_time, segments

NOVEMBER_AFTERNOON = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "typed",
    [
        "07911 123456",
        "07911123456",
        "+44 7911 123456",
        "+44 (0)7911 123456",
        "0044 7911 123456",
        "447911123456",
        " 07911-123-456 ",
    ],
)
def test_uk_mobile_numbers_typed_any_common_way_become_e164(typed: str) -> None:
    assert normalise_mobile(typed) == "+447911123456"


def test_ofcom_drama_range_is_accepted_for_demos_and_tests() -> None:
    assert normalise_mobile("07700 900123") == "+447700900123"
    assert normalise_mobile("+44 7700 900999") == "+447700900999"


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("020 7946 0000", "phone_not_mobile"),
        ("0800 123 4567", "phone_not_mobile"),
        ("07911 12345", "phone_invalid"),
        ("07700 901123", "phone_invalid"),
        ("+33 6 12 34 56 78", "phone_not_uk"),
        ("call me", "phone_unparsable"),
        ("", "phone_unparsable"),
        ("0" * 40, "phone_unparsable"),
    ],
)
def test_landlines_and_invalid_numbers_are_rejected_with_a_reason(typed: str, kind: str) -> None:
    with pytest.raises(InvalidPhoneNumberError) as raised:
        normalise_mobile(typed)

    assert raised.value.kind == kind
    assert str(raised.value)
    assert typed.strip() not in str(raised.value) or not typed.strip()


def test_crown_dependency_mobiles_share_the_uk_code_and_are_accepted() -> None:
    assert normalise_mobile("07624 123456") == "+447624123456"


def test_other_countries_mobiles_can_be_allowed() -> None:
    assert normalise_mobile("+33 6 12 34 56 78", country_codes=None) == "+33612345678"


def test_segments_count_gsm7_extension_and_ucs2_characters() -> None:
    assert segments("a" * 160) == 1
    assert segments("a" * 161) == 2
    assert segments("a" * 306) == 2
    assert segments("a" * 307) == 3
    assert segments("€" * 80) == 1
    assert segments("€" * 81) == 2
    assert segments("ë" * 70) == 1
    assert segments("ë" * 71) == 2
    assert segments("\N{GRINNING FACE}" * 35) == 1


def test_times_are_told_in_london_time_with_the_zone_only_when_ambiguous() -> None:
    assert london_time(NOVEMBER_AFTERNOON) == london_time(NOVEMBER_AFTERNOON.astimezone())
    assert london_time(NOVEMBER_AFTERNOON).day == "Thursday 26 November"
    assert london_time(NOVEMBER_AFTERNOON).time == "2pm"
    assert london_time(datetime(2026, 7, 1, 13, 5, tzinfo=UTC)).time == "2:05pm"
    assert london_time(datetime(2026, 7, 1, 23, 0, tzinfo=UTC)).time == "12am"
    assert london_time(datetime(2026, 10, 25, 0, 30, tzinfo=UTC)).time == "1:30am BST"
    assert london_time(datetime(2026, 10, 25, 1, 30, tzinfo=UTC)).time == "1:30am GMT"
    assert london_time(datetime(2026, 3, 29, 1, 30, tzinfo=UTC)).time == "2:30am"


def test_texts_carry_a_first_name_a_day_a_time_and_the_service_and_fit_one_segment() -> None:
    templates = SmsTemplates("Camden Family Support")

    reminder = templates.reminder_text("Sam Patel", NOVEMBER_AFTERNOON)
    cancellation = templates.cancellation_text("Sam Patel", NOVEMBER_AFTERNOON)

    assert reminder == (
        "Hi Sam, Camden Family Support here: a reminder that your visit is on Thursday "
        "26 November at 2pm. Please do not reply to this text."
    )
    assert "cancelled" in cancellation
    assert "Thursday 26 November at 2pm" in cancellation
    assert "Patel" not in reminder + cancellation
    assert segments(reminder) == 1
    assert segments(cancellation) == 1


def test_typographic_punctuation_does_not_force_ucs2() -> None:
    text = SmsTemplates("Children\N{RIGHT SINGLE QUOTATION MARK}s Services").reminder_text(
        "Sam", NOVEMBER_AFTERNOON
    )

    assert "Children's Services" in text
    assert segments(text) == 1


def test_a_name_keeps_its_accents_when_the_text_still_fits() -> None:
    text = SmsTemplates("Family Support").reminder_text("Zoë", NOVEMBER_AFTERNOON)

    assert text.startswith("Hi Zoë,")
    assert segments(text) == 2


def test_a_name_is_shortened_then_dropped_to_stay_within_the_segments_allowed() -> None:
    one = SmsTemplates("Family Support", max_segments=1)

    assert one.reminder_text("Zoë", NOVEMBER_AFTERNOON).startswith("Hi Zoe,")
    assert one.reminder_text("\N{CJK UNIFIED IDEOGRAPH-674E}", NOVEMBER_AFTERNOON).startswith(
        "Hi there,"
    )
    assert one.reminder_text("   ", NOVEMBER_AFTERNOON).startswith("Hi there,")


def test_a_borough_template_is_checked_when_configured() -> None:
    custom = SmsTemplates("Hackney", reminder="{service}: {first_name}, visit {day} {time}.")
    assert custom.reminder_text("Sam", NOVEMBER_AFTERNOON) == (
        "Hackney: Sam, visit Thursday 26 November 2pm."
    )
    for bad in ("{child_name} on {day}", "{service.__class__}", "{time!r}", "{day:>30}"):
        with pytest.raises(TemplateError, match="may only use"):
            SmsTemplates("Hackney", reminder=bad)
    with pytest.raises(TemplateError, match="segments"):
        SmsTemplates("Hackney", cancellation="{day} {time} " + "x" * 300)
    with pytest.raises(TemplateError, match="must say"):
        SmsTemplates("Hackney", reminder="{service}: your visit is soon.")
    with pytest.raises(TemplateError, match="empty"):
        SmsTemplates("  ")


def test_outbox_appends_one_json_line_per_text(tmp_path: Path) -> None:
    path = tmp_path / "outbox" / "sms.jsonl"
    outbox = OutboxSmsSender(path, "Hackney", clock=lambda: NOVEMBER_AFTERNOON)

    first = outbox.send("+447911123456", "Hi Sam, café at 2pm", "fam/claim-1")
    outbox.send("+447911123457", "Hi Alex", "fam/claim-2")

    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0]) == {
        "at": "2026-11-26T14:00:00Z",
        "messageId": first.message_id,
        "from": "Hackney",
        "to": "+447911123456",
        "text": "Hi Sam, café at 2pm",
        "tag": "fam/claim-1",
    }
    assert [m["tag"] for m in outbox.read()] == ["fam/claim-1", "fam/claim-2"]


def test_outbox_lines_never_interleave_under_concurrent_sends(tmp_path: Path) -> None:
    outbox = OutboxSmsSender(tmp_path / "sms.jsonl")
    threads = [
        threading.Thread(target=outbox.send, args=(f"+4479111234{i:02d}", "x" * 5000, str(i)))
        for i in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(int(m["tag"]) for m in outbox.read()) == list(range(20))


def test_the_sender_is_acs_with_an_endpoint_or_connection_string_else_the_outbox(
    tmp_path: Path,
) -> None:
    outbox = build_sms_sender(sender_id="FamilyStory", outbox_path=tmp_path / "sms.jsonl")
    azure = build_sms_sender(
        sender_id="FamilyStory", acs_endpoint="https://x.communication.azure.com"
    )
    local = build_sms_sender(
        sender_id="FamilyStory",
        acs_connection_string="endpoint=https://localhost:1/;accesskey=AA==",
    )

    assert isinstance(outbox, OutboxSmsSender)
    assert outbox.path == tmp_path / "sms.jsonl"
    assert isinstance(azure, AcsSmsSender)
    assert isinstance(local, AcsSmsSender)


def test_acs_needs_a_sender_id_and_an_endpoint() -> None:
    with pytest.raises(ValueError, match="sender id"):
        AcsSmsConfig(sender_id="", endpoint="https://x.communication.azure.com")
    with pytest.raises(ValueError, match="endpoint"):
        AcsSmsConfig(sender_id="FamilyStory")
