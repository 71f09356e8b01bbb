"""Record timestamps are RFC 3339 in UTC, whatever the year."""

from __future__ import annotations

from datetime import date

import pydantic

from shared.records.models import UtcDateTime
from shared.retention.rules import as_date


class Stamped(pydantic.BaseModel):
    at: UtcDateTime


def test_early_years_keep_four_digits_and_read_back() -> None:
    stamped = Stamped.model_validate({"at": "0192-01-28T06:25:13+16:59"})
    text = stamped.model_dump(mode="json")["at"]
    assert text == "0192-01-27T13:26:13.000Z"
    assert as_date(text) == date(192, 1, 27)


def test_milliseconds_are_kept_and_the_zone_is_z() -> None:
    stamped = Stamped.model_validate({"at": "2026-11-26T14:00:00.123456+01:00"})
    assert stamped.model_dump(mode="json")["at"] == "2026-11-26T13:00:00.123Z"
