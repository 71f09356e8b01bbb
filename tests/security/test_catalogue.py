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


def test_partners_are_not_built_yet_or_the_borough_has_a_granted_partner(
    catalogue: Catalogue,
) -> None:
    """API.md v1.1 adds partners, who see a family only through a grant. Until the app serves
    grants, the borough's partner holds the role and no grant, an outsider everywhere. Once it
    does, a partner with a grant (scoped to one kind) must join the borough, with the rule that
    every kind outside the scope, members, invitations, notifications, audit, export and other
    partners' grants are 404 to them."""
    assert catalogue.create_operation("partners") is None, (
        "the app serves partner grants: add a granted partner to tests/security/borough.py"
    )
