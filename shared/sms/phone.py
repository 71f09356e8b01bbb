"""Phone numbers for texts: parsed with ``phonenumbers``, UK by default, mobiles only, E.164.

``normalise_mobile`` is what member-input validation calls; its error says what is wrong in
words a family member understands, and ``kind`` is a stable code for the 422 ``errors[].type``.
It never echoes the number back.

Ofcom's drama range (07700 900000 to 900999) is reserved for fiction: it can never reach a real
person, so training stacks, demos and test suites use it (the API's own examples do). It is
accepted as a mobile number although ``phonenumbers`` does not list it as allocated; a text to
it simply fails at the provider.
"""

from __future__ import annotations

from typing import Literal

PhoneProblem = Literal["phone_unparsable", "phone_invalid", "phone_not_mobile", "phone_not_uk"]

UK_COUNTRY_CODE = 44
MAX_INPUT_LENGTH = 32

MESSAGES: dict[PhoneProblem, str] = {
    "phone_unparsable": "That does not look like a phone number.",
    "phone_invalid": "That is not a valid phone number.",
    "phone_not_mobile": "Texts need a mobile number; that looks like a landline or service number.",
    "phone_not_uk": "Only UK mobile numbers can receive texts.",
}


class InvalidPhoneNumberError(ValueError):
    def __init__(self, kind: PhoneProblem) -> None:
        super().__init__(MESSAGES[kind])
        self.kind: PhoneProblem = kind


def normalise_mobile(
    raw: str,
    default_region: str = "GB",
    country_codes: frozenset[int] | None = frozenset({UK_COUNTRY_CODE}),
) -> str:
    """The E.164 form (``+447911123456``) of a mobile number typed in any common way.

    ``country_codes=None`` accepts mobiles of any country.
    """
    import phonenumbers
    from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

    text = raw.strip()
    if not text or len(text) > MAX_INPUT_LENGTH:
        raise InvalidPhoneNumberError("phone_unparsable")
    try:
        number = phonenumbers.parse(text, default_region)
    except NumberParseException:
        raise InvalidPhoneNumberError("phone_unparsable") from None
    if _drama_mobile(number.country_code, number.national_number):
        return f"+{number.country_code}{number.national_number}"
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumberError("phone_invalid")
    if country_codes is not None and number.country_code not in country_codes:
        raise InvalidPhoneNumberError("phone_not_uk")
    if phonenumbers.number_type(number) not in (
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise InvalidPhoneNumberError("phone_not_mobile")
    return str(phonenumbers.format_number(number, PhoneNumberFormat.E164))


def _drama_mobile(country_code: int | None, national_number: int | None) -> bool:
    return country_code == UK_COUNTRY_CODE and 7700900000 <= (national_number or 0) <= 7700900999
