"""Partner agencies on the in-memory ports: the rules of a grant, what a partner may see and
write, and what happens the moment a grant ends (at the fake clock)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.access import Caller
from shared.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from shared.identity import Principal, PrincipalKind
from shared.records import models
from shared.records.grant_models import GrantIn, GrantPatch
from shared.records.kinds import AGENDA, COMMENT, MEDIA, NOTE, PLAN, VISIT
from shared.services import case, families, partners, views
from shared.services.callers import resolve_caller
from shared.sync.pull import Puller
from shared.validation import validate
from tests.unit.services.casebook import Casebook, uid

ALL = ["visits", "agendas", "plans", "notes", "media"]


@pytest.fixture
def book() -> Casebook:
    return Casebook()


def grant_body(oid: str, scopes: list[str], book: Casebook, **fields: Any) -> GrantIn:
    end = book.runtime.clock() + timedelta(days=30)
    return GrantIn.model_validate(
        {
            "partnerOid": oid,
            "displayName": "Dana Head",
            "organisation": "Hillside Primary School",
            "agency": "education",
            "scopes": scopes,
            "lawfulBasis": "children-act-1989-s17",
            "reason": "Core group member.",
            "expiresAt": end.isoformat(),
            **fields,
        }
    )


class Partner:
    """A partner agency's professional, resolved as the edge resolves every request."""

    def __init__(self, book: Casebook, roles: frozenset[str] = frozenset({"Partner"})) -> None:
        self.book = book
        self.oid = uid()
        kind: PrincipalKind = "partner" if roles == {"Partner"} else "staff"
        tenant = book.runtime.settings.staff_tenant_id
        self.principal = Principal(tenant, self.oid, "Dana Head", kind, roles)

    @property
    def caller(self) -> Caller:
        return resolve_caller(self.book.runtime, self.principal)

    def granted(self, scopes: list[str] | None = None, **fields: Any) -> str:
        body = grant_body(self.oid, scopes or ALL, self.book, **fields)
        made = partners.create_grant(self.book.runtime, self.book.worker, self.book.family_id, body)
        return str(made.document["id"])


def shared_note(book: Casebook, visibility: str) -> dict[str, Any]:
    return book.note(visibility=visibility)


# --- grants -----------------------------------------------------------------------------------


def test_a_grant_ends_in_the_future_within_the_limit(book: Casebook) -> None:
    oid = uid()
    now = book.runtime.clock()
    for end, problem in (
        (now - timedelta(seconds=1), "not_in_future"),
        (now + timedelta(days=183, seconds=1), "too_far"),
    ):
        body = grant_body(oid, ["notes"], book, expiresAt=end.isoformat())
        with pytest.raises(ValidationError) as refused:
            partners.create_grant(book.runtime, book.worker, book.family_id, body)
        assert refused.value.errors == [{"loc": ["body", "expiresAt"], "type": problem}]
    longest = grant_body(oid, ["notes"], book, expiresAt=(now + timedelta(days=183)).isoformat())
    assert partners.create_grant(book.runtime, book.worker, book.family_id, longest).created


def test_the_limit_is_the_setting(book: Casebook) -> None:
    runtime = book.runtime
    runtime.settings = runtime.settings.model_copy(update={"partner_max_days": 7})
    body = grant_body(uid(), ["notes"], book)  # 30 days
    with pytest.raises(ValidationError):
        partners.create_grant(runtime, book.worker, book.family_id, body)


def test_a_lawful_basis_from_the_list_and_a_reason_are_required() -> None:
    document = {
        "partnerOid": uid(),
        "displayName": "Dana Head",
        "organisation": "School",
        "agency": "education",
        "scopes": ["notes"],
        "lawfulBasis": "consent",
        "reason": "Because.",
        "expiresAt": "2026-12-31T00:00:00Z",
    }
    for name, value, problem in (
        ("lawfulBasis", None, "missing"),
        ("reason", None, "missing"),
        ("reason", "  ", "string_too_short"),
        ("lawfulBasis", "because", "literal_error"),
        ("scopes", ["notes", "members"], "literal_error"),
        ("scopes", [], "too_short"),
        ("agency", "social-care", "literal_error"),
    ):
        sent = {k: v for k, v in document.items() if k != name}
        if value is not None:
            sent[name] = value
        with pytest.raises(ValidationError) as refused:
            validate(GrantIn, sent, ("body",))
        assert refused.value.errors[0]["loc"][:2] == ["body", name]
        assert refused.value.errors[0]["type"] == problem


def test_a_scope_is_named_once(book: Casebook) -> None:
    body = grant_body(uid(), ["notes", "notes"], book)
    with pytest.raises(ValidationError) as refused:
        partners.create_grant(book.runtime, book.worker, book.family_id, body)
    assert refused.value.errors == [{"loc": ["body", "scopes"], "type": "duplicate_scope"}]


def test_who_may_grant(book: Casebook) -> None:
    body = grant_body(uid(), ["notes"], book)
    for granter in (book.worker, book.manager, book.head):
        made = partners.create_grant(book.runtime, granter, book.family_id, body)
        assert made.document["grantedBy"]["id"] == granter.id
    with pytest.raises(ForbiddenError):
        partners.create_grant(book.runtime, book.parent, book.family_id, body)
    for outsider in (book.outsider, book.admin):
        with pytest.raises(NotFoundError):
            partners.create_grant(book.runtime, outsider, book.family_id, body)
    partner = Partner(book)
    partner.granted()
    with pytest.raises(NotFoundError):
        partners.create_grant(book.runtime, partner.caller, book.family_id, body)
    with pytest.raises(NotFoundError):
        partners.list_grants(book.runtime, partner.caller, book.family_id, 50, None)


def test_a_grant_is_changed_only_while_active_and_revoked_once(book: Casebook) -> None:
    partner = Partner(book)
    grant_id = partner.granted(["notes"])
    runtime, family = book.runtime, book.family_id
    patch = GrantPatch.model_validate({"scopes": ["notes", "plans"]})
    changed = partners.update_grant(runtime, book.manager, family, grant_id, patch, None)
    assert changed["scopes"] == ["notes", "plans"]
    assert changed["status"] == "active"
    partners.revoke_grant(runtime, book.worker, family, grant_id, None)
    partners.revoke_grant(runtime, book.worker, family, grant_id, None)  # nothing more
    shown = partners.get_grant(runtime, book.head, family, grant_id)
    assert shown["status"] == "revoked"
    assert shown["revokedBy"]["id"] == book.worker.id
    with pytest.raises(ConflictError):
        partners.update_grant(runtime, book.manager, family, grant_id, patch, None)
    actions = [a for a, _ in book.events() if a in {"grant", "update", "revoke"}]
    assert actions == ["grant", "update", "revoke"]


def test_every_grant_decision_is_audited_with_what_was_decided(book: Casebook) -> None:
    partner = Partner(book)
    grant_id = partner.granted(["notes"], lawfulBasis="children-act-2004-s11")
    patch = GrantPatch.model_validate({"reason": "Now also attends the core group."})
    partners.update_grant(book.runtime, book.worker, book.family_id, grant_id, patch, None)
    events = book.runtime.audit_store.events(book.family_id)
    decided = [e for e in events if e["recordId"] == grant_id]
    assert [e["action"] for e in decided] == ["grant", "update"]
    assert '"lawfulBasis":"children-act-2004-s11"' in decided[0]["detail"]
    assert '"reason":"Now also attends the core group."' in decided[1]["detail"]


# --- what a partner sees ----------------------------------------------------------------------


def test_a_partner_sees_shared_records_of_the_kinds_granted_and_nothing_else(
    book: Casebook,
) -> None:
    partner = Partner(book)
    partner.granted(["notes"])
    seen = {v: shared_note(book, v)["id"] for v in ("family", "partners", "professionals")}
    listed = views.list_records(book.runtime, partner.caller, NOTE, book.family_id, 50, None, {})
    assert {n["id"] for n in listed.documents} == {seen["family"], seen["partners"]}
    with pytest.raises(NotFoundError):
        views.read_record(book.runtime, partner.caller, NOTE, book.family_id, seen["professionals"])
    for kind in (VISIT, AGENDA, PLAN, MEDIA):
        with pytest.raises(NotFoundError):
            views.list_records(book.runtime, partner.caller, kind, book.family_id, 50, None, {})
    with pytest.raises(NotFoundError):
        partners.who_can_see(book.runtime, partner.caller, book.family_id)


def test_a_partner_sees_the_family_by_id_name_and_team(book: Casebook) -> None:
    partner = Partner(book)
    partner.granted(["notes"])
    document = families.get_family(book.runtime, partner.caller, book.family_id)
    shown = families.family_for(partner.caller, document)
    assert shown == {"id": book.family_id, "displayName": "The Family", "teamId": book.team}
    listed = families.list_families(book.runtime, partner.caller, 50, None)
    assert [f["id"] for f in listed.documents] == [book.family_id]


def test_a_token_without_the_partner_role_gets_nothing_from_a_grant(book: Casebook) -> None:
    roleless = Partner(book, roles=frozenset())
    roleless.granted(ALL)
    shared_note(book, "family")
    assert families.list_families(book.runtime, roleless.caller, 50, None).documents == []
    with pytest.raises(NotFoundError):
        views.list_records(book.runtime, roleless.caller, NOTE, book.family_id, 50, None, {})
    pulled = Puller(book.runtime, roleless.caller).pull(None, 100)
    assert pulled["changes"] == []


def test_a_partner_never_sees_a_draft_transcript_nor_the_familys_dispute_statements(
    book: Casebook,
) -> None:
    partner = Partner(book)
    partner.granted(["notes", "media"])
    note = shared_note(book, "family")
    dispute = models.DisputeIn.model_validate({"statement": "That is not what happened."})
    from shared.services import corrections

    corrections.add_dispute(book.runtime, book.parent, book.family_id, note["id"], dispute)
    shown = views.read_record(book.runtime, partner.caller, NOTE, book.family_id, note["id"])
    assert shown["disputed"] is True
    assert "disputes" not in shown
    with pytest.raises(ForbiddenError):
        corrections.add_dispute(book.runtime, partner.caller, book.family_id, note["id"], dispute)
    recording_id = uid()
    recording = {
        "id": recording_id,
        "familyId": book.family_id,
        "type": "media",
        "kind": "audio",
        "contentType": "audio/mpeg",
        "sizeBytes": 10,
        "visibility": "partners",
        "status": "ready",
        "transcript": {"status": "draft", "text": "said at the visit", "segments": []},
        "createdAt": "2026-12-01T10:00:00.000Z",
        "createdBy": book.worker.actor,
        "updatedAt": "2026-12-01T10:00:00.000Z",
        "updatedBy": book.worker.actor,
        "deleted": False,
    }
    book.runtime.records.create(recording)
    for reader, sees in ((book.worker, True), (partner.caller, False)):
        shown = views.read_record(book.runtime, reader, MEDIA, book.family_id, recording_id)
        assert ("transcript" in shown) is sees


# --- what a partner writes --------------------------------------------------------------------


def comment(book: Casebook, by: Caller, target: dict[str, Any]) -> dict[str, Any]:
    body = models.CommentIn.model_validate({"body": "From the school: attendance is up."})
    made = case.create_comment(book.runtime, by, book.family_id, "notes", target["id"], body)
    return made.document


def test_a_partners_comment_reaches_partners_not_the_family_unless_the_grant_says(
    book: Casebook,
) -> None:
    partner, sharing = Partner(book), Partner(book)
    partner.granted(["notes"])
    sharing.granted(["notes"], writeVisibility="family")
    note = shared_note(book, "family")
    written = comment(book, partner.caller, note)
    assert written["visibility"] == "partners"
    assert written["createdBy"]["kind"] == "partner"
    shared = comment(book, sharing.caller, note)
    assert shared["visibility"] == "family"
    on_note = ("notes", note["id"], 50, None)
    family_sees = case.list_comments(book.runtime, book.parent, book.family_id, *on_note)
    assert {c["id"] for c in family_sees.documents} == {shared["id"]}


def test_a_partners_comment_on_a_partners_record_never_reaches_the_family(
    book: Casebook,
) -> None:
    sharing = Partner(book)
    sharing.granted(["notes"], writeVisibility="family")
    note = shared_note(book, "partners")
    written = comment(book, sharing.caller, note)
    assert written["visibility"] == "partners"
    widened = NOTE.patch.model_validate({"visibility": "family"})
    book.service.update(book.worker, NOTE, book.family_id, note["id"], widened, None)
    aligned = book.runtime.records.read(book.family_id, written["id"])
    assert aligned is not None
    assert aligned["visibility"] == "family"

    default = Partner(book)
    default.granted(["notes"])
    other = shared_note(book, "partners")
    theirs = comment(book, default.caller, other)
    book.service.update(book.worker, NOTE, book.family_id, other["id"], widened, None)
    kept = book.runtime.records.read(book.family_id, theirs["id"])
    assert kept is not None
    assert kept["visibility"] == "partners"
    narrowed = NOTE.patch.model_validate({"visibility": "professionals"})
    book.service.update(book.worker, NOTE, book.family_id, other["id"], narrowed, None)
    kept = book.runtime.records.read(book.family_id, theirs["id"])
    assert kept is not None
    assert kept["visibility"] == "professionals"


def test_a_partners_agenda_item_is_left_out_of_the_familys_agenda(book: Casebook) -> None:
    partner = Partner(book)
    partner.granted(["agendas"])
    body = AGENDA.create.model_validate({"title": "Core group", "visibility": "family"})
    agenda = book.service.create(book.worker, AGENDA, book.family_id, body).document
    item = models.AgendaItemIn.model_validate({"text": "Attendance since half term"})
    added, _ = views.add_agenda_item(
        book.runtime, partner.caller, book.family_id, agenda["id"], item
    )
    assert added["items"][-1]["visibility"] == "partners"
    assert added["items"][-1]["addedBy"]["kind"] == "partner"
    staff_view = views.read_record(book.runtime, book.worker, AGENDA, book.family_id, agenda["id"])
    family_view = views.read_record(book.runtime, book.parent, AGENDA, book.family_id, agenda["id"])
    assert len(staff_view["items"]) == 1
    assert family_view["items"] == []
    item_id = staff_view["items"][0]["id"]
    sent = {"id": item_id, "text": "Attendance since half term", "done": True}
    edit = AGENDA.patch.model_validate({"items": [sent]})
    edited = book.service.update(book.worker, AGENDA, book.family_id, agenda["id"], edit, None)
    assert edited["items"][0]["visibility"] == "partners"  # kept through staff's edits


def test_a_partner_changes_only_the_status_of_their_own_actions(book: Casebook) -> None:
    partner = Partner(book)
    grant_id = partner.granted(["plans"])
    mine = {"id": uid(), "text": "Breakfast club", "owner": grant_id}
    theirs = {"id": uid(), "text": "Call the GP", "owner": "Sam Patel"}
    body = PLAN.create.model_validate({"title": "Plan", "actions": [mine, theirs]})
    plan = book.service.create(book.worker, PLAN, book.family_id, body).document
    stored = plan["actions"]

    def patch(actions: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
        sent = PLAN.patch.model_validate({"actions": actions, **more})
        return book.service.update(partner.caller, PLAN, book.family_id, plan["id"], sent, None)

    done = patch([{**stored[0], "status": "done"}, stored[1]])
    assert [a["status"] for a in done["actions"]] == ["done", "open"]
    for actions, more, where in (
        ([done["actions"][0], {**stored[1], "status": "done"}], {}, ["actions", 1, "status"]),
        ([{**done["actions"][0], "text": "Changed"}, stored[1]], {}, ["actions", 0, "text"]),
        ([done["actions"][0]], {}, ["actions"]),
        (done["actions"], {"title": "Mine now"}, ["title"]),
    ):
        with pytest.raises(ForbiddenError) as refused:
            patch(actions, **more)
        errors = refused.value.extensions["errors"]
        assert {"loc": ["body", *where], "type": "forbidden_field"} in errors


def test_a_partner_creates_nothing_but_comments_and_agenda_items(book: Casebook) -> None:
    partner = Partner(book)
    partner.granted(ALL)
    note = NOTE.create.model_validate({"body": "From the school"})
    with pytest.raises(ForbiddenError, match="Partner agencies"):
        book.service.create(partner.caller, NOTE, book.family_id, note)
    mine = comment(book, partner.caller, shared_note(book, "family"))
    with pytest.raises(ForbiddenError):
        book.service.delete(book.worker, COMMENT, book.family_id, mine["id"], None)
    book.service.delete(partner.caller, COMMENT, book.family_id, mine["id"], None)


# --- the moment a grant ends ------------------------------------------------------------------


def test_an_expiry_between_two_requests_of_one_device_ends_access_at_once(
    book: Casebook,
) -> None:
    partner = Partner(book)
    end = book.runtime.clock() + timedelta(hours=1)
    partner.granted(["notes"], expiresAt=end.isoformat())
    note = shared_note(book, "partners")
    device = Puller(book.runtime, partner.caller).pull(None, 100)
    held = {c["id"] for c in device["changes"]}
    assert note["id"] in held
    assert views.read_record(book.runtime, partner.caller, NOTE, book.family_id, note["id"])

    book.runtime.clock.advance(timedelta(hours=1))  # the end itself: no longer active
    with pytest.raises(NotFoundError):
        views.read_record(book.runtime, partner.caller, NOTE, book.family_id, note["id"])
    assert families.list_families(book.runtime, partner.caller, 50, None).documents == []
    after = Puller(book.runtime, partner.caller).pull(device["next"], 100)
    gone = {c["id"] for c in after["changes"] if c["deleted"] and c["data"] is None}
    assert gone == held
    assert all(c["deleted"] for c in after["changes"])


def test_a_grant_that_ends_mid_pull_tombstones_what_was_sent_and_nothing_else(
    book: Casebook,
) -> None:
    partner = Partner(book)
    grant_id = partner.granted(["notes"])
    other_family = book.new_family(book.worker)
    other_grant = grant_body(partner.oid, ["notes"], book)
    partners.create_grant(book.runtime, book.worker, other_family, other_grant)
    notes = [shared_note(book, "partners")["id"] for _ in range(3)]
    hidden = shared_note(book, "professionals")["id"]
    body = NOTE.create.model_validate({"body": "Theirs", "visibility": "family"})
    kept = book.service.create(book.worker, NOTE, other_family, body).document["id"]

    first = Puller(book.runtime, partner.caller).pull(None, 2)
    assert first["more"]
    partners.revoke_grant(book.runtime, book.worker, book.family_id, grant_id, None)
    pages = [first]
    while pages[-1]["more"]:
        pages.append(Puller(book.runtime, partner.caller).pull(pages[-1]["next"], 2))
    later = [c for page in pages[1:] for c in page["changes"]]
    tombstones = {c["id"] for c in later if c["deleted"]}
    assert set(notes) | {book.family_id} <= tombstones
    assert hidden not in tombstones
    assert book.member_id not in tombstones  # partners never held members
    live = {c["id"] for c in later if not c["deleted"]}
    assert not live & {*notes, book.family_id}
    everything = {c["id"] for page in pages for c in page["changes"] if not c["deleted"]}
    assert kept in everything


def test_a_grant_gained_after_a_snapshot_is_caught_up_and_a_narrowed_one_tombstoned(
    book: Casebook,
) -> None:
    partner = Partner(book)
    grant_id = partner.granted(["agendas"], expiresAt=(book.runtime.clock() + timedelta(days=9)))
    old_note = shared_note(book, "family")
    book.runtime.clock.advance(timedelta(hours=1))  # the note is older than any overlap
    device = Puller(book.runtime, partner.caller).pull(None, 100)
    assert old_note["id"] not in {c["id"] for c in device["changes"]}

    widen = GrantPatch.model_validate({"scopes": ["agendas", "notes"]})
    partners.update_grant(book.runtime, book.worker, book.family_id, grant_id, widen, None)
    caught, token = drain(book, partner, device["next"])
    assert old_note["id"] in {c["id"] for c in caught if not c["deleted"]}

    narrow = GrantPatch.model_validate({"scopes": ["agendas"]})
    partners.update_grant(book.runtime, book.worker, book.family_id, grant_id, narrow, None)
    dropped, _ = drain(book, partner, token)
    assert old_note["id"] in {c["id"] for c in dropped if c["deleted"]}
    assert book.family_id not in {c["id"] for c in dropped if c["deleted"]}


def drain(book: Casebook, partner: Partner, token: str) -> tuple[list[dict[str, Any]], str]:
    """Every change pulled from ``token`` until no more, and the token to keep."""
    changes: list[dict[str, Any]] = []
    while True:
        page = Puller(book.runtime, partner.caller).pull(token, 100)
        changes += page["changes"]
        token = page["next"]
        if not page["more"]:
            return changes, token


def test_a_device_whose_token_loses_the_partner_role_is_told_everything_is_gone(
    book: Casebook,
) -> None:
    partner = Partner(book)
    partner.granted(["notes"])
    note = shared_note(book, "family")
    device = Puller(book.runtime, partner.caller).pull(None, 100)
    held = {c["id"] for c in device["changes"]}
    assert {note["id"], book.family_id} <= held
    roleless = resolve_caller(
        book.runtime,
        Principal(partner.principal.tenant_id, partner.oid, "Dana Head", "staff", frozenset()),
    )
    after = Puller(book.runtime, roleless).pull(device["next"], 100)
    assert {c["id"] for c in after["changes"] if c["deleted"]} == held


def test_families_gained_are_caught_up_with_a_token_that_stays_small(book: Casebook) -> None:
    """A social worker allocated, between two pulls, to many families whose records were all
    written before gets every one of those records (not only what changed since), and the token
    naming what is left to catch up stays the size it was."""
    gained = [book.new_family(book.manager) for _ in range(30)]
    body = NOTE.create.model_validate({"body": "Written before the allocation"})
    notes = {book.service.create(book.manager, NOTE, f, body).document["id"] for f in gained}
    book.runtime.clock.advance(timedelta(hours=1))  # the notes are older than any overlap
    device = Puller(book.runtime, book.worker).pull(None, 100)
    assert not notes & {c["id"] for c in device["changes"]}
    allocate = models.FamilyPatch.model_validate({"workerIds": [book.worker.id, book.manager.id]})
    for family in gained:
        families.update_family(book.runtime, book.manager, family, allocate, None)
    first = Puller(book.runtime, book.worker).pull(device["next"], 5)
    assert first["more"]
    assert len(first["next"]) < 2 * len(device["next"])
    changes, _ = drain_as(book, book.worker, first["next"])
    received = {c["id"] for c in [*first["changes"], *changes] if not c["deleted"]}
    assert notes | set(gained) <= received


def drain_as(book: Casebook, caller: Caller, token: str) -> tuple[list[dict[str, Any]], str]:
    changes: list[dict[str, Any]] = []
    while True:
        page = Puller(book.runtime, caller).pull(token, 100)
        changes += page["changes"]
        token = page["next"]
        if not page["more"]:
            return changes, token
