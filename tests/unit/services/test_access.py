"""Who reaches which family and record, decided on the in-memory ports (no emulator)."""

from __future__ import annotations

import pytest

from shared.errors import ForbiddenError, NotFoundError
from shared.records.family_access import access_family
from shared.records.kinds import NOTE
from shared.records.models import NotePatch
from shared.services import families
from tests.unit.services.casebook import Casebook, signed_in, uid


@pytest.fixture
def book() -> Casebook:
    return Casebook()


def test_a_worker_not_allocated_gets_404_and_the_refusal_is_audited(book: Casebook) -> None:
    with pytest.raises(NotFoundError):
        access_family(book.runtime, book.outsider, book.family_id, "note")
    assert book.events()[-1] == ("access", "denied")


def test_a_family_that_does_not_exist_is_404_and_nothing_is_audited(book: Casebook) -> None:
    missing = uid()
    with pytest.raises(NotFoundError):
        access_family(book.runtime, book.head, missing, "note")
    assert book.events(missing) == []


def test_the_team_manager_and_head_of_service_reach_the_family_and_admin_does_not(
    book: Casebook,
) -> None:
    assert access_family(book.runtime, book.manager, book.family_id, "note").is_staff
    assert access_family(book.runtime, book.head, book.family_id, "note").is_staff
    with pytest.raises(NotFoundError):
        access_family(book.runtime, book.admin, book.family_id, "note")
    assert families.visible_family_ids(book.runtime, book.admin) == []
    assert families.visible_family_ids(book.runtime, book.head) == [book.family_id]


def test_a_family_member_reaches_only_their_own_family(book: Casebook) -> None:
    other = book.new_family(book.worker)
    assert access_family(book.runtime, book.parent, book.family_id, "note").level == "family"
    with pytest.raises(NotFoundError):
        access_family(book.runtime, book.parent, other, "note")
    assert families.visible_family_ids(book.runtime, book.parent) == [book.family_id]


def test_family_member_cannot_see_professionals_note(book: Casebook) -> None:
    hidden = book.note(body="Concerns raised by school.")
    shared = book.note(body="Plan agreed.", visibility="family")
    access = book.service.access(book.parent, book.family_id, NOTE)

    with pytest.raises(NotFoundError):
        book.service.find(access, NOTE, hidden["id"])
    listed = book.service.list(book.parent, NOTE, book.family_id, 50, None)

    assert [d["id"] for d in listed.documents] == [shared["id"]]
    assert book.events()[-2] == ("read", "denied")


def test_a_family_member_sees_staffs_shared_note_but_may_not_change_it(book: Casebook) -> None:
    shared = book.note(visibility="family")
    patch = NotePatch.model_validate({"body": "Rewritten"})
    with pytest.raises(ForbiddenError):
        book.service.update(book.parent, NOTE, book.family_id, shared["id"], patch, None)


def test_a_deleted_family_is_404_to_everyone(book: Casebook) -> None:
    family = book.runtime.records.read(book.family_id, book.family_id)
    assert family is not None
    book.runtime.records.replace({**family, "deleted": True}, family["_etag"])
    fresh = signed_in(book.runtime, {book.family_id: book.member_id})
    for caller in (book.head, fresh):
        with pytest.raises(NotFoundError):
            access_family(book.runtime, caller, book.family_id, "family", fresh=True)


def test_a_worker_may_send_the_default_retention_class_but_not_choose_another(
    book: Casebook,
) -> None:
    """A client generated from the document sends each field that has a default: sending the
    default sets nothing a manager must set."""
    family = book.new_family(book.worker, retentionClass="default", closedAt=None)
    stored = book.runtime.records.read(family, family)
    assert stored is not None
    assert stored["retentionClass"] == "default"
    with pytest.raises(ForbiddenError) as refused:
        book.new_family(book.worker, retentionClass="looked-after")
    assert refused.value.extensions["errors"] == [
        {"loc": ["body", "retentionClass"], "type": "forbidden_field"}
    ]
