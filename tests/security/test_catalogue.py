"""The suite covers the API the app serves: every operation is either aimed at family A's records
or listed, with how it is checked, as an operation outside any family."""

from __future__ import annotations

from tests.security.borough import Borough
from tests.security.catalogue import (
    FAMILIES,
    GLOBAL_OPERATIONS,
    Catalogue,
    served_document,
)
from tests.security.client import Client
from tests.security.oracle import cases


def test_the_cases_come_from_the_document_the_app_serves(client: Client) -> None:
    served = client.call("GET", "/openapi.json")
    assert served.status == 200
    assert served.json() == served_document()


def test_every_operation_outside_a_family_is_listed_with_how_it_is_checked(
    catalogue: Catalogue,
) -> None:
    unlisted = [
        f"{o.method} {o.path}"
        for o in catalogue.global_operations
        if (o.method, o.path) not in GLOBAL_OPERATIONS
    ]
    assert not unlisted, (
        "operations naming no family record: list each in GLOBAL_OPERATIONS "
        "(tests/security/catalogue.py) and check it in test_global_operations.py"
    )
    served = {(o.method, o.path) for o in catalogue.operations}
    assert set(GLOBAL_OPERATIONS) <= served, set(GLOBAL_OPERATIONS) - served


def test_every_operation_inside_a_family_is_aimed_at_family_a(catalogue: Catalogue) -> None:
    aimed = {t.operation.operation_id for t in catalogue.targets()}
    assert aimed == {o.operation_id for o in catalogue.per_object}


def test_every_operation_inside_a_family_needs_a_token_and_may_answer_404(
    catalogue: Catalogue,
) -> None:
    for operation in catalogue.per_object:
        assert operation.secured, operation.operation_id
        assert {401, 404} <= operation.statuses(), operation.operation_id


def test_family_a_holds_a_record_for_every_variant_the_cases_name(
    borough: Borough, catalogue: Catalogue
) -> None:
    named = {s.key for t in catalogue.targets() for s in t.slots if s.collection != FAMILIES}
    assert named <= set(borough.records), named - set(borough.records)
    assert len({r.id for r in borough.records.values()}) == len(borough.records)


def test_a_granted_partner_is_refused_everything_outside_the_grant_as_an_outsider_is(
    catalogue: Catalogue,
) -> None:
    """API.md v1.1: a partner sees a family only through a grant. The borough's partner granted
    family A's agendas and notes is aimed at every operation on members, invitations,
    notifications, the audit trail, the export, grants, "who can see" and every kind outside
    the grant, each with the whole family hidden (the 404 an outsider gets), and at every record
    of the granted kinds that partners may not see."""
    assert catalogue.create_operation("partners") is not None
    partner_cases = [c for c in cases(catalogue) if c.mode == "partner-hidden"]
    whole_family = {
        c.target.operation.operation_id
        for c in partner_cases
        if any(slot.collection == FAMILIES for slot in c.hidden(catalogue))
    }
    closed = ("members", "invitations", "notifications", "audit", "export", "partners", "access")
    for collection in (*closed, "visits", "plans", "media"):
        operations = [o for o in catalogue.per_object if o.segments[2:3] == [collection]]
        assert operations, collection
        for operation in operations:
            assert operation.operation_id in whole_family, operation.operation_id
    records = {c.target.label for c in partner_cases}
    assert {"notes.professionals", "agendas.professionals"} <= records
    assert not {"notes.family", "notes.partners", "agendas.partners"} & records
