"""A visit's outcome, its sign-off and its record for the case management system, on the
in-memory ports: the rules, who may do what, and sync applying the same rules as REST."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.access import Caller
from shared.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PreconditionFailedError,
    ValidationError,
)
from shared.records import models
from shared.records.kinds import MEMBER, NOTE, VISIT
from shared.records.store import version_of
from shared.services import case, views, visits
from shared.sync.push import Pusher, PushIn
from tests.unit.services.casebook import Casebook, uid


class Visits(Casebook):
    """The casebook's family with two children, and a visit to them."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.mia = self.member("Mia", child=True, cmsId="LL-204311")
        self.leo = self.member("Leo", child=True)
        self.visit_id = str(self.visit()["id"])

    def member(self, name: str, **fields: Any) -> str:
        body = models.MemberIn.model_validate(
            {"displayName": name, "relationship": "child", **fields}
        )
        return str(
            case.create_member(self.runtime, self.worker, self.family_id, body).document["id"]
        )

    def visit(self, **fields: Any) -> dict[str, Any]:
        body = VISIT.create.model_validate(
            {"startsAt": "2026-11-26T16:00:00Z", "endsAt": "2026-11-26T17:00:00Z", **fields}
        )
        return self.service.create(self.worker, VISIT, self.family_id, body).document

    def record(
        self, outcome: dict[str, Any], by: Caller | None = None, **more: Any
    ) -> dict[str, Any]:
        patch = VISIT.patch.model_validate({"outcome": outcome, **more})
        return self.service.update(
            by or self.worker, VISIT, self.family_id, self.visit_id, patch, None
        )

    def stored(self) -> dict[str, Any]:
        found = self.runtime.records.read(self.family_id, self.visit_id)
        assert found is not None
        return found


def seen(member_id: str, alone: bool = True, **more: Any) -> dict[str, Any]:
    return {"memberId": member_id, "seen": True, "seenAlone": alone, **more}


@pytest.fixture
def book() -> Visits:
    return Visits()


def errors_of(refused: pytest.ExceptionInfo[ValidationError]) -> list[dict[str, Any]]:
    return refused.value.errors


def test_setting_the_outcome_records_who_recorded_it_and_when(book: Visits) -> None:
    stored = book.record({"happened": True, "childrenSeen": [seen(book.mia)]})

    assert stored["recordedAt"] == "2026-12-01T10:00:00.000Z"
    assert stored["recordedBy"] == book.worker.actor
    assert stored["outcome"]["childrenSeen"] == [
        {"memberId": book.mia, "seen": True, "seenAlone": True}
    ]


def test_a_change_to_other_fields_keeps_when_the_outcome_was_recorded(book: Visits) -> None:
    book.record({"happened": True, "childrenSeen": [seen(book.mia)]})
    book.runtime.clock.advance(timedelta(hours=2))
    patch = VISIT.patch.model_validate({"location": "School"})
    stored = book.service.update(book.worker, VISIT, book.family_id, book.visit_id, patch, None)

    assert stored["recordedAt"] == "2026-12-01T10:00:00.000Z"
    assert stored["updatedAt"] == "2026-12-01T12:00:00.000Z"


@pytest.mark.parametrize(
    ("child", "where"),
    [
        ({"seen": True, "seenAlone": False}, "notSeenAloneReason"),
        ({"seen": False, "seenAlone": True}, "seenAlone"),
    ],
)
def test_a_child_seen_but_not_alone_needs_a_reason_and_one_not_seen_was_not_seen_alone(
    book: Visits, child: dict[str, Any], where: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        book.record({"happened": True, "childrenSeen": [{"memberId": book.leo, **child}]})

    assert [e["loc"] for e in errors_of(refused)] == [["body", "outcome", "childrenSeen", 0, where]]
    assert "outcome" not in book.stored()


def test_a_reason_given_for_a_child_not_seen_alone_is_accepted(book: Visits) -> None:
    reason = "Leo is two and stayed with his mother."
    stored = book.record(
        {"happened": True, "childrenSeen": [seen(book.leo, False, notSeenAloneReason=reason)]}
    )
    assert stored["outcome"]["childrenSeen"][0]["notSeenAloneReason"] == reason


def test_a_visit_that_did_not_happen_needs_a_reason_and_saw_no_child(book: Visits) -> None:
    with pytest.raises(ValidationError) as refused:
        book.record({"happened": False, "childrenSeen": [seen(book.mia)]})

    assert sorted(tuple(e["loc"]) for e in errors_of(refused)) == [
        ("body", "outcome", "childrenSeen", 0, "seen"),
        ("body", "outcome", "reasonNotHappened"),
    ]
    stored = book.record({"happened": False, "reasonNotHappened": "No one was at home."})
    assert stored["outcome"]["reasonNotHappened"] == "No one was at home."


def test_only_children_of_this_family_may_be_named_once_each(book: Visits) -> None:
    parent = book.member_id
    deleted_child = book.member("Ava", child=True)
    gone = book.runtime.records.read(book.family_id, deleted_child)
    assert gone is not None
    book.service.delete(book.worker, MEMBER, book.family_id, deleted_child, None)
    elsewhere = Visits(runtime=book.runtime, team=book.team)

    for stranger in (parent, deleted_child, elsewhere.mia, uid()):
        with pytest.raises(ValidationError) as refused:
            book.record({"happened": True, "childrenSeen": [seen(book.mia), seen(stranger)]})
        assert errors_of(refused) == [
            {"loc": ["body", "outcome", "childrenSeen", 1, "memberId"], "type": "not_a_child"}
        ]
    with pytest.raises(ValidationError) as twice:
        book.record({"happened": True, "childrenSeen": [seen(book.mia), seen(book.mia)]})
    assert errors_of(twice)[0]["type"] == "duplicate_id"


def test_an_outcome_once_recorded_can_be_corrected_but_not_removed(book: Visits) -> None:
    book.record({"happened": True, "childrenSeen": [seen(book.mia)]})
    patch = VISIT.patch.model_validate({"outcome": None})

    with pytest.raises(ValidationError) as refused:
        book.service.update(book.worker, VISIT, book.family_id, book.visit_id, patch, None)

    assert errors_of(refused) == [{"loc": ["body", "outcome"], "type": "null_not_allowed"}]


def test_family_members_may_not_record_an_outcome_nor_mark_anything_significant(
    book: Visits,
) -> None:
    with pytest.raises(ForbiddenError):
        book.record({"happened": True}, by=book.parent)
    body = NOTE.create.model_validate({"body": "Our news.", "significant": True})
    with pytest.raises(ForbiddenError) as refused:
        book.service.create(book.parent, NOTE, book.family_id, body)
    assert refused.value.extensions["errors"] == [
        {"loc": ["body", "significant"], "type": "forbidden_field"}
    ]


def test_the_family_sees_the_outcome_but_not_why_a_child_was_not_seen_alone(book: Visits) -> None:
    reason = "Leo is two."
    book.record(
        {
            "happened": True,
            "childrenSeen": [seen(book.mia), seen(book.leo, False, notSeenAloneReason=reason)],
            "present": ["Pat Jones (mother)"],
        }
    )
    as_staff = views.read_record(book.runtime, book.worker, VISIT, book.family_id, book.visit_id)
    as_family = views.read_record(book.runtime, book.parent, VISIT, book.family_id, book.visit_id)

    assert as_staff["outcome"]["childrenSeen"][1]["notSeenAloneReason"] == reason
    assert as_family["outcome"]["childrenSeen"] == [
        {"memberId": book.mia, "seen": True, "seenAlone": True},
        {"memberId": book.leo, "seen": True, "seenAlone": False},
    ]
    assert as_family["outcome"]["present"] == ["Pat Jones (mother)"]


def test_no_family_member_ever_sees_a_cms_id_nor_sets_one(book: Visits) -> None:
    as_staff = views.read_record(book.runtime, book.worker, MEMBER, book.family_id, book.mia)
    listed = views.list_records(book.runtime, book.parent, MEMBER, book.family_id, 50, None, {})
    assert as_staff["cmsId"] == "LL-204311"
    assert all("cmsId" not in m for m in listed.documents)
    patch = models.MemberPatch.model_validate({"cmsId": "LL-1"})
    with pytest.raises(ForbiddenError):
        views.update_member(book.runtime, book.parent, book.family_id, book.member_id, patch, None)


# --- sign-off --------------------------------------------------------------------------------


def test_a_visit_is_signed_off_only_once_its_outcome_is_recorded(book: Visits) -> None:
    with pytest.raises(ConflictError):
        visits.sign_off(book.runtime, book.manager, book.family_id, book.visit_id, None)
    book.record({"happened": True, "childrenSeen": [seen(book.mia)]})
    book.runtime.clock.advance(timedelta(hours=1))

    signed, _ = visits.sign_off(book.runtime, book.manager, book.family_id, book.visit_id, None)

    assert signed["signedOffBy"] == book.manager.actor
    assert signed["signedOffAt"] == "2026-12-01T11:00:00.000Z"
    assert book.events()[-1] == ("sign-off", "ok")


@pytest.mark.parametrize(
    ("who", "refusal"),
    [("worker", ForbiddenError), ("parent", ForbiddenError), ("outsider", NotFoundError)],
)
def test_only_a_manager_of_the_family_signs_a_visit_off(
    book: Visits, who: str, refusal: type[Exception]
) -> None:
    book.record({"happened": True, "childrenSeen": [seen(book.mia)]})
    callers = {"worker": book.worker, "parent": book.parent, "outsider": book.outsider}
    with pytest.raises(refusal):
        visits.sign_off(book.runtime, callers[who], book.family_id, book.visit_id, None)
    assert "signedOffAt" not in book.stored()


def test_signing_off_again_answers_the_first_sign_off_and_writes_nothing(book: Visits) -> None:
    book.record({"happened": True, "childrenSeen": [seen(book.mia)]})
    first, _ = visits.sign_off(book.runtime, book.manager, book.family_id, book.visit_id, None)
    book.runtime.clock.advance(timedelta(hours=1))
    again, _ = visits.sign_off(book.runtime, book.head, book.family_id, book.visit_id, None)

    assert version_of(again) == version_of(first)
    assert again["signedOffBy"] == book.manager.actor
    assert book.events()[-1] == ("sign-off", "replayed")


def test_a_changed_outcome_needs_signing_off_again(book: Visits) -> None:
    book.record({"happened": True, "childrenSeen": [seen(book.mia)]})
    visits.sign_off(book.runtime, book.manager, book.family_id, book.visit_id, None)
    book.record({"happened": True, "childrenSeen": [seen(book.mia), seen(book.leo)]})

    assert "signedOffAt" not in book.stored()


def test_a_sign_off_naming_an_old_version_is_a_412(book: Visits) -> None:
    recorded = book.record({"happened": True, "childrenSeen": [seen(book.mia)]})
    book.record({"happened": True, "childrenSeen": [seen(book.leo)]})

    with pytest.raises(PreconditionFailedError):
        visits.sign_off(
            book.runtime, book.manager, book.family_id, book.visit_id, f'"{version_of(recorded)}"'
        )


# --- sync --------------------------------------------------------------------------------------


def push(book: Visits, caller: Caller, *operations: dict[str, Any]) -> list[dict[str, Any]]:
    def encode(error: Exception) -> dict[str, Any]:
        return {"title": type(error).__name__, "detail": str(error)}

    pusher = Pusher(book.runtime, caller, encode)
    return pusher.push(PushIn.model_validate({"operations": list(operations)}))


def visit_op(book: Visits, action: str, **fields: Any) -> dict[str, Any]:
    return {
        "opId": uid(),
        "type": "visit",
        "action": action,
        "id": book.visit_id,
        "familyId": book.family_id,
        **fields,
    }


def test_an_outcome_pushed_from_a_device_keeps_the_same_rules(book: Visits) -> None:
    base = version_of(book.stored())
    refused, applied = push(
        book,
        book.worker,
        visit_op(book, "update", baseVersion=base, data={"outcome": {"happened": False}}),
        visit_op(
            book,
            "update",
            baseVersion=base,
            data={"outcome": {"happened": True, "childrenSeen": [seen(book.mia)]}},
        ),
    )

    assert refused["status"] == "rejected"
    assert refused["problem"]["title"] == "ValidationError"
    assert applied["status"] == "applied"
    assert book.stored()["recordedBy"] == book.worker.actor


def test_two_devices_recording_the_outcome_conflict_and_the_first_is_kept(book: Visits) -> None:
    base = version_of(book.stored())
    first = {"happened": True, "childrenSeen": [seen(book.mia)]}
    second = {"happened": True, "childrenSeen": [seen(book.leo)]}
    [one] = push(
        book, book.worker, visit_op(book, "update", baseVersion=base, data={"outcome": first})
    )
    [two] = push(
        book, book.manager, visit_op(book, "update", baseVersion=base, data={"outcome": second})
    )

    assert one["status"] == "applied"
    assert two["status"] == "conflict"
    assert [c["field"] for c in two["conflicts"]] == ["outcome"]
    assert two["current"]["outcome"]["childrenSeen"][0]["memberId"] == book.mia
    assert book.stored()["outcome"]["childrenSeen"][0]["memberId"] == book.mia


def test_a_location_pushed_after_the_outcome_was_recorded_merges_and_keeps_it(
    book: Visits,
) -> None:
    base = version_of(book.stored())
    book.record({"happened": True, "childrenSeen": [seen(book.mia)]})
    [merged] = push(
        book, book.worker, visit_op(book, "update", baseVersion=base, data={"location": "Park"})
    )

    assert merged["status"] == "applied"
    assert book.stored()["location"] == "Park"
    assert book.stored()["outcome"]["childrenSeen"][0]["memberId"] == book.mia


def test_a_sign_off_pushed_after_the_outcome_changed_is_a_conflict(book: Visits) -> None:
    read = book.record({"happened": True, "childrenSeen": [seen(book.mia)]})
    sign_off = visit_op(book, "create", baseVersion=version_of(read))
    sign_off["type"] = "visitSignOff"
    book.record({"happened": True, "childrenSeen": [seen(book.leo)]})

    [result] = push(book, book.manager, sign_off)

    assert result["status"] == "conflict"
    assert result["conflicts"][0]["field"] == "outcome"
    assert "signedOffAt" not in book.stored()


def test_a_sign_off_pushed_is_applied_once_and_refused_before_an_outcome(book: Visits) -> None:
    early = {**visit_op(book, "create"), "type": "visitSignOff"}
    [refused] = push(book, book.manager, early)
    assert refused["status"] == "rejected"
    assert refused["problem"]["title"] == "ConflictError"

    read = book.record({"happened": True, "childrenSeen": [seen(book.mia)]})
    book.service.update(
        book.worker,
        VISIT,
        book.family_id,
        book.visit_id,
        VISIT.patch.model_validate({"location": "Home"}),
        None,
    )
    sign_off = {**visit_op(book, "create", baseVersion=version_of(read)), "type": "visitSignOff"}
    [applied] = push(book, book.manager, sign_off)
    [replayed] = push(book, book.manager, sign_off)

    assert applied["status"] == "applied"
    assert replayed == applied
    assert book.stored()["signedOffBy"] == book.manager.actor


# --- the case management system --------------------------------------------------------------


def test_the_case_record_names_children_by_their_cms_id_and_is_for_staff_only(
    book: Visits,
) -> None:
    with pytest.raises(ConflictError):
        visits.case_record(book.runtime, book.worker, book.family_id, book.visit_id)
    book.record(
        {
            "happened": True,
            "childrenSeen": [
                seen(book.mia, bedroomSeen=True),
                seen(book.leo, False, notSeenAloneReason="Asleep."),
            ],
        }
    )
    record = views.case_record(book.runtime, book.worker, book.family_id, book.visit_id)

    assert record["children"] == [
        {"memberId": book.mia, "name": "Mia", "cmsId": "LL-204311", "seen": True,
         "seenAlone": True, "bedroomSeen": True, "notSeenAloneReason": None},
        {"memberId": book.leo, "name": "Leo", "cmsId": None, "seen": True,
         "seenAlone": False, "bedroomSeen": None, "notSeenAloneReason": "Asleep."},
    ]  # fmt: skip
    assert record["visit"]["id"] == book.visit_id
    assert "_etag" not in record["visit"]
    with pytest.raises(ForbiddenError):
        visits.case_record(book.runtime, book.parent, book.family_id, book.visit_id)


def test_a_visit_is_marked_recorded_in_the_cms_once(book: Visits) -> None:
    with pytest.raises(ConflictError):
        visits.mark_recorded_in_cms(book.runtime, book.worker, book.family_id, book.visit_id)
    book.record({"happened": True, "childrenSeen": [seen(book.mia)]})
    first, _ = visits.mark_recorded_in_cms(book.runtime, book.worker, book.family_id, book.visit_id)
    book.runtime.clock.advance(timedelta(days=1))
    again, _ = visits.mark_recorded_in_cms(
        book.runtime, book.manager, book.family_id, book.visit_id
    )

    assert first["recordedInCmsBy"] == book.worker.actor
    assert (again["recordedInCmsAt"], again["recordedInCmsBy"]) == (
        first["recordedInCmsAt"],
        first["recordedInCmsBy"],
    )
    assert version_of(again) == version_of(first)
    with pytest.raises(ForbiddenError):
        visits.mark_recorded_in_cms(book.runtime, book.parent, book.family_id, book.visit_id)
