"""Records duty: subject access export, note versions and disputes, audit sealing and
verification, and the disposal run."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import NEXT_PAGE, Call, Reply, endpoint, listing, record_reply, traced
from shared.bootstrap import get_runtime
from shared.lazy import LazyModule
from shared.records.kinds import NOTE

if TYPE_CHECKING:
    from shared.records import models, versions
    from shared.services import audit_trail, corrections, disposals, views
else:
    models = LazyModule("shared.records.models")
    versions = LazyModule("shared.records.versions")
    audit_trail = LazyModule("shared.services.audit_trail")
    corrections = LazyModule("shared.services.corrections")
    disposals = LazyModule("shared.services.disposals")
    views = LazyModule("shared.services.views")

bp = func.Blueprint()
log = logging.getLogger("familystory.retention")


@bp.function_name("retention_dispose_due")
@bp.timer_trigger(arg_name="timer", schedule="%DISPOSAL_SCHEDULE%")
@traced("timer")
def retention_dispose_due(
    timer: func.TimerRequest,
    context: func.Context = None,  # type: ignore[assignment]
) -> None:
    """Withdraw and destroy families past their retention; purge draft tombstones."""
    from shared.retention.disposal import Disposer

    report = Disposer(get_runtime()).run()
    log.info(
        "disposal: %d past retention, %d held, %d withdrawn, %d destroyed, %d resumed, "
        "%d failed, %d tombstones purged",
        report.past_retention,
        report.held,
        report.withdrawn,
        report.destroyed,
        report.resumed,
        report.failed,
        report.tombstones_purged,
        extra={"function": "retention_dispose_due", "pastDue": timer.past_due},
    )


@bp.function_name("audit_seal")
@bp.timer_trigger(arg_name="timer", schedule="%AUDIT_SEAL_SCHEDULE%")
def audit_seal(timer: func.TimerRequest) -> None:
    """Seal every family's new audit events into its chain and anchor the seals."""
    from shared.audit_seal import Sealer

    runtime = get_runtime()
    run = Sealer(runtime.audit_store, runtime.audit_anchors, runtime.audit_key, runtime.clock).run()
    log.info(
        "audit sealing: %d events of %d families in %d seals, %d raced, %d failed",
        run.events,
        len(run.sealed),
        run.seals,
        run.raced,
        run.failed,
        extra={"function": "audit_seal", "pastDue": timer.past_due},
    )


@endpoint(
    bp,
    name="audit_verify",
    route="families/{familyId}/audit/verify",
    methods=["GET"],
    summary="Check the family's sealed audit chain; list events not sealed yet (managers)",
    tags=("audit",),
)
def audit_verify(call: Call) -> Reply:
    return Reply(
        audit_trail.verify_family_audit(get_runtime(), call.caller, call.route_id("familyId"))
    )


@endpoint(
    bp,
    name="notes_versions_list",
    route="families/{familyId}/notes/{noteId}/versions",
    methods=["GET"],
    summary="Earlier versions of a note, newest first (staff)",
    tags=("notes",),
)
def notes_versions_list(call: Call) -> Reply:
    found = corrections.list_versions(
        get_runtime(),
        call.caller,
        call.route_id("familyId"),
        call.route_id("noteId"),
        *call.page(),
    )
    return listing(found.documents, lambda d: versions.present_version(NOTE.out, d), found.next)


@endpoint(
    bp,
    name="notes_disputes_create",
    route="families/{familyId}/notes/{noteId}/disputes",
    methods=["POST"],
    summary="Dispute a note with your own statement (family members)",
    body=lambda: models.DisputeIn,
    response=lambda: models.NoteOut,
    status=201,
    tags=("notes",),
    statuses=(412,),
    example={"statement": "I did not say that the flat was untidy."},
)
def notes_disputes_create(call: Call) -> Reply:
    note, added = views.add_dispute(
        get_runtime(),
        call.caller,
        call.route_id("familyId"),
        call.route_id("noteId"),
        call.json(models.DisputeIn),
    )
    return record_reply(note, 201 if added else 200)


@endpoint(
    bp,
    name="families_export",
    route="families/{familyId}/export",
    methods=["GET"],
    summary="Everything held about the family (managers), or all a family member may see",
    tags=("families",),
    query=(NEXT_PAGE,),
    headers=("Content-Disposition",),
)
def families_export(call: Call) -> Reply:
    from shared.services.export import Exporter

    family_id = call.route_id("familyId")
    document = Exporter(get_runtime(), call.caller).export(family_id, call.query("next"))
    name = f"familystory-export-{family_id}.json"
    return Reply(document, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@endpoint(
    bp,
    name="disposals_list",
    route="disposals",
    methods=["GET"],
    summary="Disposal certificates, newest first (head of service)",
    tags=("retention",),
)
def disposals_list(call: Call) -> Reply:
    found = disposals.list_certificates(
        get_runtime(),
        call.caller,
        *call.page(),
    )
    return listing(found.documents, disposals.present_certificate, found.next)
