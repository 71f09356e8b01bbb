"""Visit reminders by SMS: which texts are due, claimed once, sent, and what became of them."""

from shared.reminders.delivery import (
    DeliveryReport,
    InvalidDeliveryReportError,
    parse_delivery_report,
    record_delivery_report,
)
from shared.reminders.models import Claim, Member, Visit
from shared.reminders.ports import (
    ClaimChangedError,
    ClaimExistsError,
    ClaimStore,
    Clock,
    MemberSource,
    VisitSource,
)
from shared.reminders.service import ReminderConfig, ReminderService, RunReport, utc_now
from shared.reminders.timing import QuietHours, current_window, parse_duration, timer_period

__all__ = [
    "Claim",
    "ClaimChangedError",
    "ClaimExistsError",
    "ClaimStore",
    "Clock",
    "DeliveryReport",
    "InvalidDeliveryReportError",
    "Member",
    "MemberSource",
    "QuietHours",
    "ReminderConfig",
    "ReminderService",
    "RunReport",
    "Visit",
    "VisitSource",
    "current_window",
    "parse_delivery_report",
    "parse_duration",
    "record_delivery_report",
    "timer_period",
    "utc_now",
]
