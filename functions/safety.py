"""Feeling safe: family members' safety alerts, staff acknowledgement, and the follow-up timer
that retries texts and escalates to the duty team."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import Call, Reply, endpoint, listing, record_reply
from shared.bootstrap import get_runtime
from shared.lazy import LazyModule

if TYPE_CHECKING:
    from shared.safety import alerts, models
else:
    alerts = LazyModule("shared.safety.alerts")
    models = LazyModule("shared.safety.models")

bp = func.Blueprint()
log = logging.getLogger("familystory.safety")

ALERTS = "families/{familyId}/safety-alerts"
ALERT = "families/{familyId}/safety-alerts/{alertId}"
TAGS = ("safety-alerts",)
ADVICE_EXAMPLE = (
    "If you or someone else is in danger now, call 999. FamilyStory is not an emergency "
    "service: your message goes to your social work team, who may not see it straight away. "
    "Children and young people can call Childline free on 0800 1111, any time."
)


@bp.function_name("safety_alerts_follow_up")
@bp.timer_trigger(arg_name="timer", schedule="%SAFETY_SCHEDULE%")
def safety_alerts_follow_up(timer: func.TimerRequest) -> None:
    """Texts not yet sent, retries after a provider outage, and escalations that have come due."""
    from shared.safety import alerts as safety_alerts

    report = safety_alerts.follow_up_due(get_runtime())
    log.info(
        "safety alerts: %d followed up, %d texts sent, %d failed, %d escalated",
        report.alerts,
        report.sent,
        report.failed,
        report.escalated,
        extra={"function": "safety_alerts_follow_up", "pastDue": timer.past_due},
    )


@endpoint(
    bp,
    name="safety_alerts_raise",
    route=ALERTS,
    methods=["POST"],
    summary="Ask for help (family members): staff are texted at once; call 999 in an emergency",
    body=lambda: models.AlertIn,
    response=lambda: models.AlertOut,
    status=201,
    tags=TAGS,
    location=ALERT,
    example={"message": "I don't feel safe at home tonight."},
    response_example={
        "id": "5c3e9a1d-2b7f-4e60-9d8c-1a2b3c4d5e6f",
        "familyId": "3f2e1d0c-9b8a-4c7d-8e6f-5a4b3c2d1e0f",
        "type": "safetyAlert",
        "reference": "5C3E9A1D",
        "status": "raised",
        "message": "I don't feel safe at home tonight.",
        "writtenAt": "2026-12-04T21:14:00.000Z",
        "receivedAt": "2026-12-04T21:14:03.000Z",
        "texts": [{"recipient": {"kind": "worker"}, "status": "sent"}],
        "advice": ADVICE_EXAMPLE,
        "createdAt": "2026-12-04T21:14:03.000Z",
        "createdBy": {
            "id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
            "name": "Alex",
            "kind": "family",
        },
        "version": "00000a1b-0000-0d00-0000-6745e3a80000",
    },
)
def safety_alerts_raise(call: Call) -> Reply:
    made = alerts.raise_alert(
        get_runtime(), call.caller, call.route_id("familyId"), call.json(models.AlertIn)
    )
    return call.created(made.document) if made.created else record_reply(made.document)


@endpoint(
    bp,
    name="safety_alerts_list",
    route=ALERTS,
    methods=["GET"],
    summary="Safety alerts with every text sent (staff); a family member's own alerts",
    response=lambda: models.AlertOut,
    tags=TAGS,
)
def safety_alerts_list(call: Call) -> Reply:
    found = alerts.list_alerts(
        get_runtime(),
        call.caller,
        call.route_id("familyId"),
        *call.page(),
    )
    return listing(found.documents, None, found.next)


@endpoint(
    bp,
    name="safety_alerts_get",
    route=ALERT,
    methods=["GET"],
    summary="A safety alert with its texts (staff; the family member who raised it)",
    response=lambda: models.AlertOut,
    tags=TAGS,
)
def safety_alerts_get(call: Call) -> Reply:
    from functions.http import not_modified

    body = alerts.read_alert(
        get_runtime(), call.caller, call.route_id("familyId"), call.route_id("alertId")
    )
    return not_modified(call, body) or record_reply(body)


@endpoint(
    bp,
    name="safety_alerts_acknowledge",
    route=ALERT + "/acknowledge",
    methods=["POST"],
    summary="Acknowledge a safety alert (staff with access; the first is kept)",
    response=lambda: models.AlertOut,
    tags=TAGS,
    statuses=(412,),
)
def safety_alerts_acknowledge(call: Call) -> Reply:
    return record_reply(
        alerts.acknowledge(
            get_runtime(), call.caller, call.route_id("familyId"), call.route_id("alertId")
        )
    )
