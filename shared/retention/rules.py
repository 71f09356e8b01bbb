"""How long a family's records are kept: its retention class and the dates recorded on it.

The children of a case are the members marked ``child``. Rules (a family's ``retainUntil`` is
the last day its records are kept; they are disposed of after it):

- ``looked-after``: each child's 75th birthday, or 15 years after the death of a child who died
  before their 18th birthday; the latest of these over the children.
- ``adoption``: 100 years from the adoption order (``adoptionOrderAt``).
- ``child-in-need``: 3 years after the later of the youngest child's 18th birthday and the
  case's closure (``closedAt``). So a case closed while the child is young is kept until they
  are 21, and one closed later for 3 years after closure: never less than either of the two
  readings of "until 18th birthday plus 3 years after closure".
- ``default``: ``RETENTION_DEFAULT_YEARS`` years after closure.

A rule that lacks a date it needs gives no ``retainUntil`` (kept, never disposed of) and says
what is missing in ``pending``: a missing date never shortens retention. A birthday on 29
February falls on 1 March in other years, the later of the two possible days.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

RULES = {
    "looked-after": "75th birthday of the youngest child, or 15 years after the death of a "
    "child who died before 18",
    "adoption": "100 years from the adoption order",
    "child-in-need": "3 years after the later of the youngest child's 18th birthday and closure",
    "default": "{years} years after closure",
}
NEED_CHILD = "a member marked child"
NEED_BIRTH = "dateOfBirth of every child"
NEED_CLOSURE = "closedAt"
NEED_ORDER = "adoptionOrderAt"


@dataclass(frozen=True)
class Retention:
    retention_class: str
    rule: str
    retain_until: date | None
    pending: tuple[str, ...] = ()

    def fields(self) -> dict[str, Any]:
        """What is stored on the family document."""
        return {
            "retainUntil": self.retain_until.isoformat() if self.retain_until else None,
            "retentionPending": list(self.pending),
        }

    def due(self, today: date) -> bool:
        return self.retain_until is not None and self.retain_until < today


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def as_date(value: Any) -> date | None:
    if not value:
        return None
    text = str(value)
    if len(text) == 10:
        return date.fromisoformat(text)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).date()


def retention_for(
    family: Mapping[str, Any], members: Iterable[Mapping[str, Any]], default_years: int
) -> Retention:
    retention_class = str(family.get("retentionClass") or "default")
    if retention_class not in RULES:
        retention_class = "default"
    rule = RULES[retention_class].format(years=default_years)
    children = [m for m in members if m.get("child") and not m.get("deleted")]
    births = [as_date(child.get("dateOfBirth")) for child in children]
    closed = as_date(family.get("closedAt"))
    pending: list[str] = []
    if retention_class in ("looked-after", "child-in-need"):
        if not children:
            pending.append(NEED_CHILD)
        elif None in births:
            pending.append(NEED_BIRTH)
    if retention_class in ("child-in-need", "default") and closed is None:
        pending.append(NEED_CLOSURE)
    order = as_date(family.get("adoptionOrderAt"))
    if retention_class == "adoption" and order is None:
        pending.append(NEED_ORDER)
    if pending:
        return Retention(retention_class, rule, None, tuple(pending))
    until: date
    if retention_class == "adoption":
        assert order is not None
        until = add_years(order, 100)
    elif retention_class == "looked-after":
        until = max(_looked_after(child) for child in children)
    elif retention_class == "child-in-need":
        assert closed is not None
        youngest = max(born for born in births if born is not None)
        until = add_years(max(add_years(youngest, 18), closed), 3)
    else:
        assert closed is not None
        until = add_years(closed, default_years)
    return Retention(retention_class, rule, until)


def brings_forward(before: date | None, after: date | None, horizon: date) -> bool:
    """Whether ``after`` keeps the records for less time than ``before`` (no date: kept for
    ever) and ends before ``horizon``."""
    if after is None or (before is not None and after >= before):
        return False
    return after < horizon


def _looked_after(child: Mapping[str, Any]) -> date:
    born = as_date(child["dateOfBirth"])
    assert born is not None
    died = as_date(child.get("dateOfDeath"))
    if died is not None and died < add_years(born, 18):
        return add_years(died, 15)
    return add_years(born, 75)
