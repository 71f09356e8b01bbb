"""Retention rules: the last day a family's records are kept, from its class and dates."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from shared.retention.rules import (
    NEED_BIRTH,
    NEED_CHILD,
    NEED_CLOSURE,
    NEED_ORDER,
    add_years,
    brings_forward,
    retention_for,
)


def child(born: str, died: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"child": True, "dateOfBirth": born, "dateOfDeath": died, **extra}


def adult(born: str) -> dict[str, Any]:
    return {"child": False, "dateOfBirth": born}


def until(retention_class: str, members: list[dict[str, Any]], **family: Any) -> date | None:
    return retention_for({"retentionClass": retention_class, **family}, members, 25).retain_until


def test_looked_after_is_kept_to_the_youngest_childs_75th_birthday() -> None:
    members = [adult("1960-01-01"), child("2010-05-01"), child("2014-02-03")]
    assert until("looked-after", members) == date(2089, 2, 3)


def test_a_looked_after_child_who_died_before_18_is_kept_15_years_after_death() -> None:
    assert until("looked-after", [adult("1990-01-01"), child("2015-06-01", "2020-03-04")]) == date(
        2035, 3, 4
    )
    assert until("looked-after", [child("2015-06-01", "2020-03-04"), child("2012-01-01")]) == date(
        2087, 1, 1
    )


def test_a_looked_after_child_who_died_as_an_adult_is_kept_to_their_75th_birthday() -> None:
    assert until("looked-after", [child("1990-06-01", "2020-03-04")]) == date(2065, 6, 1)


def test_adoption_is_kept_100_years_from_the_order() -> None:
    assert until("adoption", [], adoptionOrderAt="2020-07-08T10:00:00.000Z") == date(2120, 7, 8)


@pytest.mark.parametrize(
    ("closed", "expected"),
    [
        ("2020-01-15T09:00:00.000Z", date(2033, 4, 1)),  # youngest 7: kept until they are 21
        ("2030-01-15T09:00:00.000Z", date(2033, 4, 1)),  # youngest 17: still until 21
        ("2031-01-15T09:00:00.000Z", date(2034, 1, 15)),  # youngest 18: 3 years after closure
    ],
)
def test_child_in_need_is_kept_3_years_after_the_later_of_18th_birthday_and_closure(
    closed: str, expected: date
) -> None:
    members = [child("2010-04-01"), child("2012-04-01"), adult("1980-01-01")]
    assert until("child-in-need", members, closedAt=closed) == expected


def test_a_closed_child_in_need_case_of_a_child_now_21_has_passed() -> None:
    today = date(2026, 11, 26)
    closed = date(2023, 11, 25)
    born = date(2005, 10, 27)
    retention = retention_for(
        {"retentionClass": "child-in-need", "closedAt": f"{closed.isoformat()}T12:00:00.000Z"},
        [child(born.isoformat())],
        25,
    )
    assert retention.retain_until == date(2026, 11, 25)
    assert retention.due(today)
    assert not retention.due(date(2026, 11, 25))


def test_default_class_uses_the_configured_years_after_closure() -> None:
    retention = retention_for({"closedAt": "2020-02-29T00:00:00.000Z"}, [], 7)
    assert retention.retention_class == "default"
    assert retention.retain_until == date(2027, 3, 1)
    assert retention.rule == "7 years after closure"


@pytest.mark.parametrize(
    ("retention_class", "members", "family", "pending"),
    [
        ("looked-after", [adult("1980-01-01")], {}, (NEED_CHILD,)),
        ("looked-after", [child("2010-01-01"), {"child": True}], {}, (NEED_BIRTH,)),
        ("child-in-need", [child("2010-01-01")], {}, (NEED_CLOSURE,)),
        ("child-in-need", [], {}, (NEED_CHILD, NEED_CLOSURE)),
        ("adoption", [child("2010-01-01")], {}, (NEED_ORDER,)),
        ("default", [], {}, (NEED_CLOSURE,)),
    ],
)
def test_a_missing_date_keeps_the_records_and_says_what_is_missing(
    retention_class: str,
    members: list[dict[str, Any]],
    family: dict[str, Any],
    pending: tuple[str, ...],
) -> None:
    retention = retention_for({"retentionClass": retention_class, **family}, members, 25)
    assert retention.retain_until is None
    assert retention.pending == pending
    assert not retention.due(date(2200, 1, 1))
    assert retention.fields() == {"retainUntil": None, "retentionPending": list(pending)}


def test_deleted_members_do_not_count() -> None:
    members = [child("2010-01-01"), child("2020-01-01", deleted=True)]
    assert until("looked-after", members) == date(2085, 1, 1)


def test_a_29_february_birthday_falls_on_1_march_in_other_years() -> None:
    assert add_years(date(2008, 2, 29), 18) == date(2026, 3, 1)
    assert add_years(date(2008, 2, 29), 4) == date(2012, 2, 29)


HORIZON = date(2051, 12, 1)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (date(2090, 6, 1), None),
        (date(2030, 1, 1), date(2030, 1, 1)),
        (date(2030, 1, 1), date(2040, 1, 1)),
        (None, date(2090, 6, 1)),
        (date(2095, 1, 1), date(2090, 6, 1)),
        (None, None),
    ],
)
def test_a_later_missing_or_distant_date_does_not_bring_disposal_near(
    before: date | None, after: date | None
) -> None:
    assert not brings_forward(before, after, HORIZON)


@pytest.mark.parametrize(
    ("before", "after"),
    [(date(2090, 6, 1), date(2015, 1, 1)), (None, date(2051, 11, 30)), (None, date(2001, 1, 1))],
)
def test_an_earlier_date_within_the_horizon_brings_disposal_near(
    before: date | None, after: date
) -> None:
    assert brings_forward(before, after, HORIZON)
