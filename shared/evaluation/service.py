"""The pilot evaluation: read the weekly figures (one query), and keep them up to date.

- ``read_evaluation``: team managers see their own teams, the head of service every team; one
  query of the ``evaluation`` container, however many weeks and teams.
- ``update``: the timer's incremental run. It reads what changed in the records (and the
  sync-conflict audit events) since its watermark, works out which team-weeks those changes can
  move, and recounts exactly those from the records. Recounting a team-week whole (rather than
  adding to it) keeps every figure, medians included, equal to what a rebuild gives.
- ``rebuild``: recounts every team's weeks in a date range from the records (after a
  correction, or for a new measure).

A family counts for the team it belongs to when its weeks are counted: after a transfer, its
earlier weeks move with it when they are next recounted (a rebuild of the range).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from shared.access import Caller
from shared.errors import BadRequestError, ForbiddenError, NotFoundError
from shared.evaluation.measures import tally, weeks_touched
from shared.evaluation.report import as_csv, report
from shared.evaluation.weeks import bounds, weeks_between
from shared.ports.evaluation import CaseActivity, EvaluationStore
from shared.ports.runtime import Runtime

MAX_DAYS = 371  # 53 ISO weeks: a year, whichever weekday it starts on
OVERLAP_SECONDS = 60
TEAM_ID_LENGTH = (
    64  # as a family's teamId  # changes re-read by each run, against writes landing out of order
)


class EvaluationRuntime(Runtime, Protocol):
    """The runtime with the evaluation's own store and its reader of case activity."""

    @property
    def evaluation_store(self) -> EvaluationStore: ...

    @property
    def case_activity(self) -> CaseActivity: ...


@dataclass
class UpdateReport:
    changed: int = 0
    team_weeks: int = 0
    watermark: int | None = None
    teams: list[str] = field(default_factory=list)


def _date(name: str, raw: str | None) -> date:
    if raw is None:
        raise BadRequestError(f"{name} is required (YYYY-MM-DD).")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadRequestError(f"{name} must be a date, YYYY-MM-DD.") from None


def read_evaluation(
    runtime: EvaluationRuntime,
    caller: Caller,
    first_raw: str | None,
    last_raw: str | None,
    team_id: str | None,
    as_text: bool = False,
) -> dict[str, Any] | str:
    """The figures per team and ISO week, as JSON or (``as_text``) CSV."""
    head = caller.principal.has_role("HeadOfService")
    if not head and not caller.principal.has_role("TeamManager"):
        if caller.is_family or caller.principal.has_role("Partner"):
            raise NotFoundError("No such resource.")  # as for anyone outside the borough
        raise ForbiddenError("Only team managers and the head of service see the evaluation.")
    first, last = _date("from", first_raw), _date("to", last_raw)
    if last < first:
        raise BadRequestError("to must not be before from.")
    if (last - first).days > MAX_DAYS:
        raise BadRequestError(f"Ask for at most {MAX_DAYS} days at a time.")
    if team_id is not None and not 1 <= len(team_id) <= TEAM_ID_LENGTH:
        raise BadRequestError(f"teamId is 1 to {TEAM_ID_LENGTH} characters.")
    if team_id is not None and not head and team_id not in caller.team_ids:
        raise NotFoundError("No such team.")
    weeks = weeks_between(first, last)
    teams = [team_id] if team_id else (None if head else sorted(caller.team_ids))
    rows = runtime.evaluation_store.rows(teams, weeks[0], weeks[-1]) if teams != [] else []
    shown = teams if teams is not None else sorted({str(r["teamId"]) for r in rows})
    minimum = runtime.settings.evaluation_min_count
    figures = report(rows, shown, weeks, minimum)
    if as_text:
        return as_csv(figures)
    return {"from": first.isoformat(), "to": last.isoformat(), "minCount": minimum,
            "teams": figures}  # fmt: skip


def _recount(
    runtime: EvaluationRuntime,
    touched: Mapping[str, set[str]],
    family_teams: Mapping[str, str],
) -> int:
    families: dict[str, list[str]] = defaultdict(list)
    for family_id, team in family_teams.items():
        families[team].append(family_id)
    counted = 0
    for team, weeks in sorted(touched.items()):
        if not weeks:
            continue
        start, end = bounds(min(weeks))[0], bounds(max(weeks))[1]
        documents = runtime.case_activity.activity(sorted(families[team]), start, end)
        rows = tally(team, sorted(weeks), documents, runtime.clock())
        runtime.evaluation_store.save(rows)
        counted += len(rows)
    return counted


def _since(mark: int | None, now: float) -> int:
    """Where to read changes from: the watermark, less the overlap while the last change seen
    is that recent (a write of that second may still be landing); once it is older, nothing
    more can arrive at or before it."""
    if mark is None:
        return 0
    return mark if now - mark >= OVERLAP_SECONDS else max(0, mark - OVERLAP_SECONDS)


def update(runtime: EvaluationRuntime) -> UpdateReport:
    """Recount the team-weeks that what changed since the watermark can move."""
    store, activity = runtime.evaluation_store, runtime.case_activity
    mark = store.watermark()
    since = _since(mark, runtime.clock().timestamp())
    changed = list(activity.changed_since(since))
    teams = activity.family_teams()
    touched: dict[str, set[str]] = defaultdict(set)
    for document in changed:
        team = teams.get(str(document.get("familyId")))
        if team is not None:
            touched[team] |= weeks_touched(document)
    report_ = UpdateReport(changed=len(changed), teams=sorted(touched))
    report_.team_weeks = _recount(runtime, touched, teams)
    newest = max((int(d["_ts"]) for d in changed if "_ts" in d), default=mark)
    if newest is not None and newest != mark:
        store.set_watermark(newest)
    report_.watermark = newest
    return report_


def rebuild(runtime: EvaluationRuntime, first: date, last: date) -> UpdateReport:
    """Recount every team's weeks from ``first`` to ``last`` from the records."""
    teams = runtime.case_activity.family_teams()
    weeks = set(weeks_between(first, last))
    touched = {team: set(weeks) for team in set(teams.values())}
    return UpdateReport(team_weeks=_recount(runtime, touched, teams), teams=sorted(touched))
