"""What the edge asks of case records: one call, access worked out once, records shown as the
caller may see them."""

from __future__ import annotations

from typing import Any

import pytest

from shared.records import family_access, models
from shared.records import service as record_service
from shared.records.kinds import MEMBER, NOTE
from shared.services import views
from tests.unit.services.casebook import PHONE, Casebook


@pytest.fixture
def book() -> Casebook:
    return Casebook()


@pytest.fixture
def access_counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The families whose access was worked out, one entry a time."""
    worked_out: list[str] = []
    real = family_access.access_family

    def counted(runtime: Any, caller: Any, family_id: str, record_type: str) -> Any:
        worked_out.append(family_id)
        return real(runtime, caller, family_id, record_type)

    monkeypatch.setattr(record_service, "access_family", counted)
    return worked_out


def test_a_comment_is_made_and_shown_with_access_worked_out_once(
    book: Casebook, access_counted: list[str]
) -> None:
    note = book.note(visibility="family")
    access_counted.clear()
    body = models.CommentIn.model_validate({"body": "Thank you."})
    made = views.create_comment(
        book.runtime, book.parent, book.family_id, "notes", note["id"], body
    )
    assert made.created
    assert made.document["body"] == "Thank you."
    assert "requestHash" not in made.document  # shown, not stored
    assert access_counted == [book.family_id]


def test_a_member_sees_only_their_own_phone_in_a_list(book: Casebook) -> None:
    body = models.MemberIn.model_validate({"displayName": "Alex", "relationship": "parent",
                                            "phone": "+447700900456"})  # fmt: skip
    views.create_member(book.runtime, book.worker, book.family_id, body)
    as_worker = views.list_records(book.runtime, book.worker, MEMBER, book.family_id, 50, None, {})
    as_parent = views.list_records(book.runtime, book.parent, MEMBER, book.family_id, 50, None, {})
    assert sorted(str(m.get("phone")) for m in as_worker.documents) == [PHONE, "+447700900456"]
    phones = {m["id"]: m.get("phone") for m in as_parent.documents}
    assert phones == {book.member_id: PHONE, **{
        m["id"]: None for m in as_parent.documents if m["id"] != book.member_id}}  # fmt: skip


def test_a_read_is_audited_before_it_is_shown(book: Casebook, access_counted: list[str]) -> None:
    note = book.note()
    access_counted.clear()
    shown = views.read_record(book.runtime, book.worker, NOTE, book.family_id, note["id"])
    assert shown["id"] == note["id"]
    assert shown["version"]
    events = book.runtime.audit.page(book.family_id, 50, None).items
    assert [e["action"] for e in events if e["recordId"] == note["id"]].count("read") == 1
    assert access_counted == [book.family_id]


def test_an_update_is_shown_at_its_new_version(book: Casebook) -> None:
    note = book.note()
    first = views.read_record(book.runtime, book.worker, NOTE, book.family_id, note["id"])
    patch = NOTE.patch.model_validate({"body": "Visited at home; all well."})
    shown = views.update_record(
        book.runtime, book.worker, NOTE, book.family_id, note["id"], patch, f'"{first["version"]}"'
    )
    assert shown["body"] == "Visited at home; all well."
    assert shown["version"] != first["version"]
