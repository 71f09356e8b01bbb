"""The pilot evaluation: weekly figures per team for managers, and the timer that keeps them."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import Call, Reply, endpoint, traced
from functions.http.endpoints import Query
from shared.bootstrap import get_runtime
from shared.lazy import LazyModule

if TYPE_CHECKING:
    from shared.evaluation import service as evaluation
else:
    evaluation = LazyModule("shared.evaluation.service")

bp = func.Blueprint()
log = logging.getLogger("familystory.evaluation")

UPDATE_SCHEDULE = "0 40 * * * *"  # hourly; a literal: %SETTING% would need an app setting
DATE = {"type": "string", "format": "date"}
TEAM = {"type": "string", "minLength": 1, "maxLength": 64}


@endpoint(
    bp,
    name="evaluation_get",
    route="evaluation",
    methods=["GET"],
    summary="The pilot's weekly figures per team (team managers: their teams; head of service)",
    tags=("evaluation",),
    query=(
        Query("from", DATE, "First day (YYYY-MM-DD); every ISO week with a day in the range."),
        Query("to", DATE, "Last day (YYYY-MM-DD), at most 371 days after from."),
        Query("teamId", TEAM, "One team only."),
        Query(
            "format",
            {"type": "string", "enum": ["json", "csv"], "default": "json"},
            "csv: text/csv, one line a team, week and measure.",
        ),
    ),
    statuses=(403, 404),
)
def evaluation_get(call: Call) -> Reply:
    wanted = call.query("format") or "json"
    if wanted not in ("json", "csv"):
        from shared.errors import BadRequestError

        raise BadRequestError("format is json or csv.")
    figures = evaluation.read_evaluation(
        get_runtime(),
        call.caller,
        call.query("from"),
        call.query("to"),
        call.query("teamId"),
        as_text=wanted == "csv",
    )
    if isinstance(figures, str):
        return Reply(figures.encode(), content_type="text/csv; charset=utf-8")
    return Reply(figures)


@bp.function_name("evaluation_update")
@bp.timer_trigger(arg_name="timer", schedule=UPDATE_SCHEDULE)
@traced("timer")
def evaluation_update(
    timer: func.TimerRequest,
    context: func.Context = None,  # type: ignore[assignment]
) -> None:
    report = evaluation.update(get_runtime())
    log.info(
        "evaluation: %d changes, %d team-weeks recounted",
        report.changed,
        report.team_weeks,
        extra={"function": "evaluation_update", "pastDue": timer.past_due,
               "changed": report.changed, "teamWeeks": report.team_weeks},
    )  # fmt: skip
