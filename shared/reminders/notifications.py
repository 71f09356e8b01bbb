"""The reminder run, delivery reports and the notifications list, wired to the app's runtime.

- ``run_reminders``: one timer run with the real visits, members, claims, sender and texts,
  configured from the ``REMINDER_*`` and ``SMS_*`` settings, at the runtime's clock.
- ``record_delivery_event``: an ACS delivery report onto its claim.
- ``list_notifications``: a family's notification claims for staff, newest first, a page at a
  time with a tamper-evident ``next`` token, audited like every read of case data. A family
  member may see the family but not this list (403); anyone else gets 404.

Staff see the number that was texted (they see members' numbers anyway, and it is what they
need when a family says no text came); the message text is not stored at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from shared.access import Caller
from shared.errors import ForbiddenError
from shared.opaque import sealed_page
from shared.ports.records import Listing
from shared.ports.runtime import Runtime
from shared.records.family_access import access_family
from shared.records.service import Listed
from shared.reminders.delivery import record_delivery_report
from shared.reminders.models import NOTIFICATION_TYPE, Claim, present_notification
from shared.reminders.ports import ClaimStore, MemberSource, VisitSource
from shared.reminders.service import ReminderConfig, ReminderService, RunReport

__all__ = [
    "list_notifications",
    "present_notification",
    "record_delivery_event",
    "reminder_config",
    "reminder_service",
    "run_reminders",
]


class ReminderRuntime(Runtime, Protocol):
    """The runtime with the reminder stores, which only this package uses."""

    @property
    def claim_store(self) -> ClaimStore: ...

    @property
    def visits(self) -> VisitSource: ...

    @property
    def members(self) -> MemberSource: ...


def reminder_config(runtime: Runtime) -> ReminderConfig:
    settings = runtime.settings
    return ReminderConfig.parse(
        windows=settings.reminder_windows,
        quiet_hours=settings.reminder_quiet_hours,
        schedule=settings.reminder_schedule,
        max_attempts=settings.reminder_max_attempts,
    )


def reminder_service(runtime: ReminderRuntime) -> ReminderService:
    return ReminderService(
        visits=runtime.visits,
        members=runtime.members,
        claims=runtime.claim_store,
        sender=runtime.sms_sender,
        templates=runtime.sms_templates,
        config=reminder_config(runtime),
        clock=runtime.clock,
    )


def run_reminders(runtime: ReminderRuntime) -> RunReport:
    return reminder_service(runtime).run()


def record_delivery_event(runtime: ReminderRuntime, event: Mapping[str, Any]) -> Claim | None:
    """Raises ``InvalidDeliveryReportError`` for an event that is not a delivery report."""
    return record_delivery_report(runtime.claim_store, event, runtime.clock)


def list_notifications(
    runtime: Runtime, caller: Caller, family_id: str, limit: int, token: str | None
) -> Listed:
    access = access_family(runtime, caller, family_id, NOTIFICATION_TYPE)
    if not access.is_staff:
        raise ForbiddenError("Only staff see the family's notifications.")
    scope = f"list|{NOTIFICATION_TYPE}|{access.family_id}|{caller.principal.key}"
    claims = Listing(family_id=access.family_id, record_type=NOTIFICATION_TYPE, live=False)
    items, following = sealed_page(
        runtime.signer, scope, token, lambda after: runtime.records.list_page(claims, limit, after)
    )
    runtime.audit.record(caller, "list", access.family_id, NOTIFICATION_TYPE, None)
    return Listed(items, following)
