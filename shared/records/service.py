"""Create, read, list, update and soft-delete case records, with access checks and audit.

One implementation serves every kind (visits, agendas, notes, plans, comments, members) and both
the REST endpoints and sync: the rules are never written twice.

A write's audit event is appended before the write, because the two live in different
containers and cannot be written together: if the database fails in between, an audited
attempt without its change is possible, a change without its event is not. An outcome other
than ``ok`` found by the write (a replay, a conflict) follows as an event of its own. A read is
audited after the read and before anything is returned, so nothing is disclosed unaudited.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.access import (
    Caller,
    FamilyAccess,
    can_see,
    family_may_see,
    reject_fields,
    require_author,
)
from shared.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PreconditionFailedError,
    ValidationError,
)
from shared.ids import canonical_id, new_id
from shared.models import InputModel
from shared.opaque import sealed_page
from shared.ports.errors import AlreadyExistsError, VersionMismatchError
from shared.ports.records import Listing
from shared.ports.runtime import Runtime
from shared.query import bounded_integer
from shared.records.family_access import access_family
from shared.records.kinds import Kind
from shared.records.store import (
    content_hash,
    etag_matches,
    now_iso,
    shared_with_family,
    version_of,
    with_history,
)
from shared.records.versions import keep_version, settled
from shared.validation import validate

MAX_LIMIT = 100
DEFAULT_LIMIT = 50
ALIGN_ATTEMPTS = 10
UNKNOWN_REFERENCE = (
    "A reference must name a record of this family that you can see, and a record shared with "
    "the family may refer only to records shared with it."
)


@dataclass(frozen=True)
class Created:
    document: dict[str, Any]
    created: bool


@dataclass(frozen=True)
class Listed:
    documents: list[dict[str, Any]]
    next: str | None


def fields_of(model: InputModel) -> dict[str, Any]:
    """The fields a client sent (a patch), by their JSON names. A list it sends replaces the
    stored one whole, so its entries keep their defaults."""
    sent = set(model.model_fields_set)
    dumped = model.model_dump(mode="json", by_alias=True, include=sent)
    return {k: v for k, v in dumped.items() if k != "id"}


def new_fields(model: InputModel) -> dict[str, Any]:
    """A new record's fields: what was sent, with defaults for the rest."""
    dumped = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return {k: v for k, v in dumped.items() if k != "id"}


def present(kind: Kind, document: Mapping[str, Any]) -> dict[str, Any]:
    shaped = kind.out.model_validate({**document, "version": version_of(document)})
    return shaped.model_dump(mode="json", by_alias=True, exclude_none=True)


class RecordService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.store = runtime.records
        self.audit = runtime.audit

    def access(self, caller: Caller, family_id: str, kind: Kind) -> FamilyAccess:
        return access_family(self.runtime, caller, family_id, kind.record_type)

    def stamp(self, caller: Caller) -> dict[str, Any]:
        return {"updatedAt": now_iso(self.runtime.clock()), "updatedBy": caller.actor}

    def find(self, access: FamilyAccess, kind: Kind, record_id: str) -> dict[str, Any]:
        canonical = canonical_id(record_id)
        document = self.store.read(access.family_id, canonical) if canonical else None
        if (
            document is None
            or document.get("type") != kind.record_type
            or not can_see(access, document)
        ):
            if document is not None and not document.get("deleted"):
                self.audit.record(
                    access.caller, "read", access.family_id, kind.record_type, canonical, "denied"
                )
            raise NotFoundError(f"No such {kind.label}.")
        return document

    def check_write_fields(self, access: FamilyAccess, kind: Kind, sent: set[str]) -> None:
        if not access.is_staff:
            reject_fields(sent, set(kind.staff_only_fields), "Family members")

    # --- create -------------------------------------------------------------------------------

    def create(
        self,
        caller: Caller,
        kind: Kind,
        family_id: str,
        body: InputModel,
        extra: Mapping[str, Any] | None = None,
        access: FamilyAccess | None = None,
    ) -> Created:
        access = access or self.access(caller, family_id, kind)
        if not access.is_staff and not kind.family_may_create:
            raise ForbiddenError(f"Family members may not create a {kind.label}.")
        self.check_write_fields(access, kind, set(fields_of(body)))
        sent = new_fields(body)
        record_id = body_id(body) or new_id()
        request_hash = content_hash(
            {
                "type": kind.record_type,
                "family": access.family_id,
                "by": caller.id,
                "fields": sent,
                "extra": dict(extra or {}),
            }
        )
        moment = now_iso(self.runtime.clock())
        document: dict[str, Any] = {
            **sent,
            **(extra or {}),
            "id": record_id,
            "familyId": access.family_id,
            "type": kind.record_type,
            "createdAt": moment,
            "createdBy": caller.actor,
            "updatedAt": moment,
            "updatedBy": caller.actor,
            "deleted": False,
            "requestHash": request_hash,
        }
        if kind.has_visibility and "visibility" not in document:
            document["visibility"] = kind.staff_visibility if access.is_staff else "family"
        document["everShared"] = shared_with_family(document)
        for check in kind.checks:
            check(document, self.runtime.settings)
        try:
            self.check_references(access, kind, document)
        except ValidationError:
            # A retry of a create whose reference has gone since still gets its first answer.
            existing = self.store.read(access.family_id, record_id) if body_id(body) else None
            if existing is None:
                raise
            return self._replayed(access, kind, existing, request_hash, caller)
        if kind.prepare:
            kind.prepare(None, document, caller.actor)
        self.audit.record(caller, "create", access.family_id, kind.record_type, record_id)
        try:
            stored = self.store.create(document)
        except AlreadyExistsError as exists:
            return self._replayed(access, kind, exists.existing, request_hash, caller)
        return Created(stored, True)

    def _replayed(
        self,
        access: FamilyAccess,
        kind: Kind,
        existing: dict[str, Any] | None,
        request_hash: str,
        caller: Caller,
    ) -> Created:
        if existing is not None and existing.get("requestHash") == request_hash:
            if existing.get("deleted"):
                raise ConflictError(f"This {kind.label} was created and has since been deleted.")
            if not can_see(access, existing):
                # Un-shared since it was made: out of the caller's reach, like any other read.
                self.audit.record(
                    caller, "create", access.family_id, kind.record_type, existing["id"], "denied"
                )
                raise NotFoundError(f"No such {kind.label}.")
            self.audit.record(
                caller, "create", access.family_id, kind.record_type, existing["id"], "replayed"
            )
            return Created(existing, False)
        current = None
        if (
            existing is not None
            and existing.get("type") == kind.record_type
            and can_see(access, existing)
        ):
            current = present(kind, existing)
        self.audit.record(
            caller,
            "create",
            access.family_id,
            kind.record_type,
            existing["id"] if existing else None,
            "conflict",
        )
        raise ConflictError("A record with this id already exists.", current=current)

    # --- read ---------------------------------------------------------------------------------

    def get(self, caller: Caller, kind: Kind, family_id: str, record_id: str) -> dict[str, Any]:
        access = self.access(caller, family_id, kind)
        document = self.find(access, kind, record_id)
        self.audit.record(caller, "read", access.family_id, kind.record_type, document["id"])
        return document

    def list(
        self,
        caller: Caller,
        kind: Kind,
        family_id: str,
        limit: int,
        token: str | None,
        filters: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
        access: FamilyAccess | None = None,
    ) -> Listed:
        """A page of the kind's records the caller may see; ``filters`` are the kind's query
        filters, ``extra`` further fields that must match."""
        access = access or self.access(caller, family_id, kind)
        equal = {
            name: value
            for name, value in (filters or {}).items()
            if name in kind.filters and value is not None
        }
        equal.update(extra or {})
        scope = "|".join(
            [
                "list",
                kind.record_type,
                access.family_id,
                caller.principal.key,
                *[f"@{k}={v}" for k, v in sorted(equal.items())],
            ]
        )
        listing = Listing(
            family_id=access.family_id,
            record_type=kind.record_type,
            family_view=not access.is_staff,
            equal=tuple(equal.items()),
            newest_first=kind.newest_first,
        )
        items, following = sealed_page(
            self.runtime.signer,
            scope,
            token,
            lambda after: self.store.list_page(listing, limit, after),
        )
        self.audit.record(caller, "list", access.family_id, kind.record_type, None)
        return Listed(items, following)

    # --- update -------------------------------------------------------------------------------

    def update(
        self,
        caller: Caller,
        kind: Kind,
        family_id: str,
        record_id: str,
        patch: InputModel,
        if_match: str | None,
        access: FamilyAccess | None = None,
    ) -> dict[str, Any]:
        access = access or self.access(caller, family_id, kind)
        current = self.find(access, kind, record_id)
        self.require_edit(access, kind, current, "change")
        sent = fields_of(patch)
        self.check_write_fields(access, kind, set(sent))
        self.check_version(kind, current, if_match)
        self.refuse_removing_required(kind, sent)
        merged = {**current, **sent}
        for name, value in sent.items():
            if value is None:
                merged.pop(name, None)
        self.validate_merged(kind, merged)
        self.check_references(access, kind, merged, current)
        if kind.prepare:
            kind.prepare(current, merged, caller.actor)
        merged.update(self.stamp(caller))
        if kind.keeps_versions and settled(current, self.runtime.clock()):
            keep_version(self.store, current, caller.actor, self.runtime.clock())
        stored = self.replace(access, kind, merged, current, "update")
        if kind.has_visibility and stored.get("visibility") != current.get("visibility"):
            self.cascade_visibility(access, stored)
        return stored

    def cascade_visibility(self, access: FamilyAccess, target: Mapping[str, Any]) -> None:
        """Comments share their target's visibility; keep them in step when it changes."""
        comments = self.store.comments_shown_otherwise(
            access.family_id, str(target["id"]), target.get("visibility")
        )
        for comment in comments:
            self.align_comment(comment)

    def align_comment(self, comment: dict[str, Any]) -> dict[str, Any]:
        """Give a comment its target's visibility as it is now, reading both again after each
        write until they agree: a comment stored while its target is shared or un-shared (after
        that change's cascade ran), or a cascade racing a later one, never keeps the old value."""
        latest: dict[str, Any] | None = comment
        for _ in range(ALIGN_ATTEMPTS):
            if latest is None:
                break
            target = self.store.read(str(latest["familyId"]), str(latest["targetId"]))
            wanted = (target or latest).get("visibility")
            if latest.get("visibility") == wanted:
                return latest
            try:
                shown = {**latest, "visibility": wanted}
                latest = self.store.replace(with_history(latest, shown), str(latest["_etag"]))
            except VersionMismatchError as changed:
                latest = changed.current
        return latest or comment

    def refuse_removing_required(self, kind: Kind, sent: Mapping[str, Any]) -> None:
        """A merge patch's null removes a field; a field every record has cannot be removed."""
        fields = kind.out.model_fields.items()
        required = {field.alias or name for name, field in fields if field.is_required()}
        removed = sorted(name for name, value in sent.items() if value is None and name in required)
        if removed:
            raise ValidationError(
                "These fields cannot be removed.",
                [{"loc": ["body", name], "type": "null_not_allowed"} for name in removed],
            )

    def validate_merged(self, kind: Kind, merged: dict[str, Any]) -> None:
        """The record after a merge patch must still be a valid record of its kind."""
        aliases = [field.alias or name for name, field in kind.create.model_fields.items()]
        view = kind.client_view(merged)
        candidate = {alias: view[alias] for alias in aliases if alias in view and alias != "id"}
        validate(kind.create, candidate, ("body",))
        for check in kind.checks:
            check(merged, self.runtime.settings)

    def check_references(
        self,
        access: FamilyAccess,
        kind: Kind,
        document: Mapping[str, Any],
        current: Mapping[str, Any] | None = None,
    ) -> None:
        """Each reference (``visitId``, ``noteId``) names a record of its type in this family,
        not deleted, that the caller can see; and when the family can see the referring record,
        one the family can see too. Any other id is the same 422 at the field, whether it is
        another family's, deleted, hidden from the caller or never existed.

        Cost: one point read per reference checked. An update checks only the references it
        changes, or all of them when it makes the record visible to the family."""
        shared = family_may_see(document)
        widened = current is not None and shared and not family_may_see(current)
        problems = []
        for name, record_type in kind.references:
            value = document.get(name)
            if value is None or (
                current is not None and not widened and current.get(name) == value
            ):
                continue
            problem = self._reference_problem(access, record_type, str(value), shared)
            if problem is not None:
                problems.append({"loc": ["body", name], "type": problem})
        if problems:
            raise ValidationError(UNKNOWN_REFERENCE, problems)

    def _reference_problem(
        self, access: FamilyAccess, record_type: str, record_id: str, shared: bool
    ) -> str | None:
        target = self.store.read(access.family_id, record_id)
        if target is None or target.get("type") != record_type or not can_see(access, target):
            return "unknown_reference"
        if shared and not family_may_see(target):
            return "reference_not_shared"
        return None

    def require_edit(
        self, access: FamilyAccess, kind: Kind, current: Mapping[str, Any], verb: str
    ) -> None:
        if kind.record_type == "comment":
            require_author(access, current, f"{verb} a comment")
            return
        if access.is_staff:
            return
        if not kind.family_may_edit_own:
            raise ForbiddenError(f"Family members may not {verb} a {kind.label}.")
        require_author(access, current, f"{verb} this {kind.label}")

    def check_version(self, kind: Kind, current: Mapping[str, Any], if_match: str | None) -> None:
        if if_match is not None and not etag_matches(if_match, current):
            raise PreconditionFailedError(
                f"The {kind.label} has changed; fetch it again.", current=present(kind, current)
            )

    def replace(
        self,
        access: FamilyAccess,
        kind: Kind,
        document: dict[str, Any],
        current: Mapping[str, Any],
        action: str,
    ) -> dict[str, Any]:
        record_id = document["id"]
        self.audit.record(access.caller, action, access.family_id, kind.record_type, record_id)
        try:
            stored = self.store.replace(with_history(current, document), str(current["_etag"]))
        except VersionMismatchError as changed:
            self.audit.record(
                access.caller, action, access.family_id, kind.record_type, record_id, "conflict"
            )
            latest = changed.current
            shown = present(kind, latest) if latest and can_see(access, latest) else None
            raise PreconditionFailedError(
                f"The {kind.label} was changed by someone else; fetch it again.", current=shown
            ) from None
        return stored

    # --- delete -------------------------------------------------------------------------------

    def delete(
        self,
        caller: Caller,
        kind: Kind,
        family_id: str,
        record_id: str,
        if_match: str | None,
        access: FamilyAccess | None = None,
    ) -> dict[str, Any]:
        access = access or self.access(caller, family_id, kind)
        current = self.find(access, kind, record_id)
        self.require_edit(access, kind, current, "delete")
        self.check_version(kind, current, if_match)
        now = self.runtime.clock()
        tombstone = {
            **current,
            "deleted": True,
            "deletedAt": now_iso(now),
            "deletedAsDraft": not settled(current, now),
            **self.stamp(caller),
        }
        return self.replace(access, kind, tombstone, current, "delete")


def body_id(body: InputModel) -> str | None:
    """The id a client chose for a new record, if it chose one."""
    chosen = getattr(body, "id", None)
    return str(chosen) if chosen else None


def page_limit(raw: str | None) -> int:
    return bounded_integer(raw, "limit", 1, MAX_LIMIT, DEFAULT_LIMIT)
