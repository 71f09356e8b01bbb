"""Visit reminders: the timer run, ACS delivery reports (Event Grid), and the staff list."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import azure.functions as func

from functions.http import Call, Reply, endpoint, listing, traced
from shared.bootstrap import get_runtime

bp = func.Blueprint()
log = logging.getLogger("familystory.notifications")
# The reminder machinery is imported where used: HTTP cold starts do not pay for it.


@bp.function_name("reminders_send_due")
@bp.timer_trigger(arg_name="timer", schedule="%REMINDER_SCHEDULE%")
@traced("timer")
def reminders_send_due(
    timer: func.TimerRequest,
    context: func.Context = None,  # type: ignore[assignment]
) -> None:
    from shared.reminders import notifications

    report = notifications.run_reminders(get_runtime())
    log.info(
        "reminders: %d visits due, %d sent, %d deferred, %d skipped, %d failed, "
        "%d claimed by another run",
        report.visits,
        report.sent,
        report.deferred,
        report.skipped,
        report.failed,
        report.already_claimed,
        extra={"function": "reminders_send_due", "pastDue": timer.past_due, **report.__dict__},
    )


@bp.function_name("reminders_delivery_report")
@bp.event_grid_trigger(arg_name="event")
@traced("pubsub")
def reminders_delivery_report(
    event: func.EventGridEvent,
    context: func.Context = None,  # type: ignore[assignment]
) -> None:
    """Delivered or undeliverable onto the claim. Anything else is logged and dropped; a store
    that is down raises, so Event Grid delivers the event again."""
    from shared.reminders import notifications
    from shared.reminders.delivery import EVENT_TYPE, InvalidDeliveryReportError

    fields = {"function": "reminders_delivery_report", "eventId": event.id}
    data = event.get_json()
    if event.event_type != EVENT_TYPE or not isinstance(data, Mapping):
        log.warning("ignored an event that is not an SMS delivery report", extra=fields)
        return
    try:
        claim = notifications.record_delivery_event(
            get_runtime(), {"eventType": event.event_type, "data": data}
        )
    except InvalidDeliveryReportError:
        log.warning("ignored an SMS delivery report without its fields", extra=fields)
        return
    if claim is None:
        from shared.reminders.delivery import parse_delivery_report
        from shared.safety import alerts

        report = parse_delivery_report({"eventType": event.event_type, "data": data})
        text = alerts.record_delivery(
            get_runtime(), report.tag, report.message_id, report.delivery_status,
            report.received_at,
        )  # fmt: skip
        if text is None:
            log.info("delivery report for no notification of ours", extra=fields)
        else:
            log.info("safety text delivery recorded: %s", text.status, extra=fields)
        return
    log.info(
        "delivery report recorded: %s",
        claim.status,
        extra={**fields, "claimId": claim.id, "familyId": claim.family_id},
    )


@endpoint(
    bp,
    name="notifications_list",
    route="families/{familyId}/notifications",
    methods=["GET"],
    summary="Reminders sent, deferred, skipped and failed, newest first (staff)",
    tags=("notifications",),
)
def notifications_list(call: Call) -> Reply:
    from shared.reminders import notifications

    found = notifications.list_notifications(
        get_runtime(),
        call.caller,
        call.route_id("familyId"),
        *call.page(),
    )
    return listing(found.documents, notifications.present_notification, found.next)
