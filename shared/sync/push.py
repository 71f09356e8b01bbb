"""Batch push: queued offline operations, each independent, each applied at most once.

- Every operation goes through the same services as the REST endpoints (same validation, same
  access rules).
- Every ``opId`` of the push is claimed first, all at once (conditional creates in ``sync``, one
  transactional batch), before any is applied; the stored result is read only for an ``opId``
  whose claim found it taken (a replay). The results of the operations applied are stored
  together at the end (one batch) and returned again for any replay, for
  ``SYNC_OPERATION_DAYS`` (TTL). A replay therefore never creates a duplicate or reports a false
  conflict, and a push of N operations costs their own writes plus two requests. An ``opId``
  sent twice in one push is applied once; its second place gets the first one's result. An
  operation that fails unexpectedly gives up its claim, so a retry applies it; a push that dies
  before storing its results leaves their claims in progress, and their replays are refused
  for now (``rejected``, a conflict) rather than applied twice.
- ``update`` and ``delete`` need ``baseVersion``. When the server's copy moved on, the fields it
  changed since that version are known from the record's change log: if they do not overlap the
  fields the device changed, the device's change is applied on top (the fields are independent
  and the merged record is validated again); otherwise the result is ``conflict`` with the
  server's copy and the fields in conflict, and nothing is overwritten. A base version too old
  to be in the log is always a conflict.
- ``visitSignOff`` (action ``create``, ``id`` the visit's) is a manager's sign-off of a visit as
  they read it at ``baseVersion``: the rules are the visit service's (``shared.services.visits``),
  and an outcome changed since that version is a conflict on ``outcome``.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from typing import Any, Literal

from pydantic import Field

from shared.access import Caller, can_see
from shared.errors import (
    ConflictError,
    DependencyUnavailableError,
    FamilyStoryError,
    NotFoundError,
    PreconditionFailedError,
    ValidationError,
)
from shared.ids import canonical_id
from shared.models import InputModel
from shared.ports.runtime import Runtime
from shared.records import models
from shared.records.kinds import COMMENT, KINDS, Kind
from shared.records.service import RecordService, fields_of, present
from shared.records.store import changed_since, version_of
from shared.records.words import WordsIn
from shared.safety import alerts
from shared.safety.models import AlertIn
from shared.services import case, visits, words
from shared.validation import validate

log = logging.getLogger("familystory.sync")
MAX_OPERATIONS = 100
Pushable = Literal[
    "note",
    "agenda",
    "agendaItem",
    "plan",
    "comment",
    "visit",
    "chronologyEvent",
    "visitSignOff",
    "words",
    "safetyAlert",
]

ProblemEncoder = Callable[[Exception], dict[str, Any]]


class Envelope(InputModel):
    op_id: str = Field(min_length=1, max_length=100)
    type: str
    action: str
    id: str = ""
    family_id: str = ""
    base_version: str | None = None
    data: dict[str, Any] | None = None


class PushIn(InputModel):
    operations: list[Envelope] = Field(max_length=MAX_OPERATIONS)


class Operation(InputModel):
    op_id: str = Field(min_length=1, max_length=100)
    type: Pushable
    action: Literal["create", "update", "delete"]
    id: models.Id
    family_id: models.Id
    base_version: str | None = Field(default=None, max_length=200)
    data: dict[str, Any] | None = None


PLAIN_OP_ID = re.compile(r"[A-Za-z0-9._:-]+")


def operation_key(op_id: str) -> str:
    """The opId as part of a Cosmos DB id: as sent when plain, else a digest of it."""
    if PLAIN_OP_ID.fullmatch(op_id):
        return op_id
    return "sha256-" + hashlib.sha256(op_id.encode("utf-8", "surrogatepass")).hexdigest()


def in_operation(error: ValidationError, where: tuple[Any, ...]) -> ValidationError:
    """The services place a field's error in the request ``body``; in a push, that is the
    operation's ``data``."""
    located = [
        {**item, "loc": [*where, *item["loc"][1:]]} if item["loc"][:1] == ["body"] else item
        for item in error.errors
    ]
    return ValidationError(error.detail, located)


class SyncConflictError(Exception):
    def __init__(self, current: dict[str, Any] | None, fields: list[dict[str, Any]]) -> None:
        super().__init__("conflict")
        self.current = current
        self.fields = fields


class Pusher:
    def __init__(self, runtime: Runtime, caller: Caller, encode: ProblemEncoder) -> None:
        self.runtime = runtime
        self.caller = caller
        self.encode = encode
        self.service = RecordService(runtime)
        self.operations = runtime.operations
        self.ttl = runtime.settings.sync_operation_days * 86_400

    def push(self, request: PushIn) -> list[dict[str, Any]]:
        owner = self.caller.principal.key
        keys = [operation_key(envelope.op_id) for envelope in request.operations]
        claimed = self.operations.claim(owner, list(dict.fromkeys(keys)), self.ttl)
        taken = [key for key in dict.fromkeys(keys) if key not in claimed]
        stored = self.operations.results(owner, taken) if taken else {}
        applied: dict[str, dict[str, Any]] = {}
        results = []
        try:
            for index, (envelope, key) in enumerate(zip(request.operations, keys, strict=True)):
                if key in applied or key in stored:
                    results.append(applied.get(key) or stored[key])
                elif key in claimed:
                    result, kept = self._apply_claimed(index, envelope, owner, key)
                    if kept:
                        applied[key] = result
                    else:
                        claimed.discard(key)
                    results.append(result)
                else:
                    busy = ConflictError("This operation is being applied; retry shortly.")
                    results.append(self._rejected(envelope, busy))
        finally:
            self.operations.complete(owner, applied, self.ttl)
        return results

    def _apply_claimed(
        self, index: int, envelope: Envelope, owner: str, key: str
    ) -> tuple[dict[str, Any], bool]:
        """The operation's result, and whether it is kept for replays: not when the operation
        failed unexpectedly (an outage, a bug), whose claim is released for a retry."""
        try:
            return self._apply(index, envelope), True
        except Exception as error:
            self.operations.release(owner, key)
            if not isinstance(error, DependencyUnavailableError):
                log.exception("sync operation failed unexpectedly")
            return self._rejected(envelope, error), False

    def _rejected(self, envelope: Envelope, error: Exception) -> dict[str, Any]:
        return {
            "opId": envelope.op_id,
            "status": "rejected",
            "id": envelope.id,
            "problem": self.encode(error),
        }

    def _apply(self, index: int, envelope: Envelope) -> dict[str, Any]:
        try:
            operation = validate(
                Operation, envelope.model_dump(by_alias=True), ("operations", index)
            )
            return self._dispatch(index, operation)
        except SyncConflictError as conflict:
            self.runtime.audit.record(
                self.caller, "sync", operation.family_id, operation.type, operation.id, "conflict"
            )
            result: dict[str, Any] = {
                "opId": envelope.op_id,
                "status": "conflict",
                "id": envelope.id,
                "current": conflict.current,
                "conflicts": conflict.fields,
            }
            if conflict.current:
                result["version"] = conflict.current.get("version")
            return result
        except FamilyStoryError as error:
            if isinstance(error, DependencyUnavailableError):
                raise
            if isinstance(error, ValidationError):
                error = in_operation(error, ("operations", index, "data"))
            return self._rejected(envelope, error)

    def _dispatch(self, index: int, operation: Operation) -> dict[str, Any]:
        where = ("operations", index, "data")
        data = dict(operation.data or {})
        if operation.type == "agendaItem":
            return self._agenda_item(operation, data, where)
        if operation.type == "visitSignOff":
            return self._sign_off(operation, index)
        if operation.type == "safetyAlert" or (
            operation.type == "words" and operation.action != "delete"
        ):
            return self._own_words(index, operation, data, where)
        kind = KINDS[operation.type]
        if operation.action == "create":
            return self._create(operation, kind, data, where)
        if operation.base_version is None:
            raise ValidationError.at(
                ("operations", index, "baseVersion"),
                "missing",
                "update and delete need baseVersion.",
            )
        if operation.action == "update":
            return self._update(operation, kind, data, where)
        return self._delete(operation, kind)

    def _applied(self, operation: Operation, document: dict[str, Any]) -> dict[str, Any]:
        return {
            "opId": operation.op_id,
            "status": "applied",
            "id": document["id"],
            "version": version_of(document),
        }

    def _create(
        self, operation: Operation, kind: Kind, data: dict[str, Any], where: tuple[Any, ...]
    ) -> dict[str, Any]:
        if kind is COMMENT:
            target_type, target_id = str(data.pop("targetType", "")), str(data.pop("targetId", ""))
            comment = validate(models.CommentIn, {**data, "id": operation.id}, where)
            try:
                made = case.create_comment(
                    self.runtime, self.caller, operation.family_id, target_type, target_id, comment
                )
            except ConflictError as clash:
                raise SyncConflictError(clash.extensions.get("current"), []) from None
            return self._applied(operation, made.document)
        body = validate(kind.create, {**data, "id": operation.id}, where)
        try:
            made = self.service.create(self.caller, kind, operation.family_id, body)
        except ConflictError as clash:
            raise SyncConflictError(clash.extensions.get("current"), []) from None
        return self._applied(operation, made.document)

    def _update(
        self, operation: Operation, kind: Kind, data: dict[str, Any], where: tuple[Any, ...]
    ) -> dict[str, Any]:
        patch = validate(kind.patch, data, where)
        access = self.service.access(self.caller, operation.family_id, kind)
        current = self.service.find(access, kind, operation.id)
        base = str(operation.base_version).strip('"')
        if version_of(current) != base:
            self._merge_or_conflict(access, kind, current, base, fields_of(patch))
            base = version_of(current)
        try:
            stored = self.service.update(
                self.caller,
                kind,
                operation.family_id,
                operation.id,
                patch,
                f'"{base}"',
                access=access,
            )
        except PreconditionFailedError as moved:
            shown = moved.extensions.get("current")
            raise SyncConflictError(shown, self._fields(shown, fields_of(patch), None)) from None
        return self._applied(operation, stored)

    def _merge_or_conflict(
        self, access: Any, kind: Kind, current: dict[str, Any], base: str, yours: dict[str, Any]
    ) -> None:
        theirs = changed_since(current, base)
        if theirs is not None and not theirs & set(yours):
            return
        shown = present(kind, current) if can_see(access, current) else None
        raise SyncConflictError(shown, self._fields(shown, yours, theirs))

    @staticmethod
    def _fields(
        shown: dict[str, Any] | None, yours: dict[str, Any], theirs: set[str] | None
    ) -> list[dict[str, Any]]:
        overlap = (theirs or set()) & set(yours)
        names = sorted(overlap or (theirs if theirs is not None else set(yours)))
        return [
            {"field": name, "yours": yours.get(name), "theirs": (shown or {}).get(name)}
            for name in names
        ]

    def _delete(self, operation: Operation, kind: Kind) -> dict[str, Any]:
        access = self.service.access(self.caller, operation.family_id, kind)
        existing = self.runtime.records.read(access.family_id, operation.id)
        if (
            existing is not None
            and existing.get("deleted")
            and existing.get("type") == kind.record_type
        ):
            return self._applied(operation, existing)
        current = self.service.find(access, kind, operation.id)
        base = str(operation.base_version).strip('"')
        if version_of(current) != base:
            theirs = changed_since(current, base)
            shown = present(kind, current)
            raise SyncConflictError(shown, self._fields(shown, {}, theirs or set(shown)))
        try:
            stored = self.service.delete(
                self.caller, kind, operation.family_id, operation.id, f'"{base}"', access=access
            )
        except PreconditionFailedError as moved:
            raise SyncConflictError(moved.extensions.get("current"), []) from None
        return self._applied(operation, stored)

    def _own_words(
        self, index: int, operation: Operation, data: dict[str, Any], where: tuple[Any, ...]
    ) -> dict[str, Any]:
        """A words entry or a safety alert a family member wrote offline: created through its
        own service as on REST (an alert is raised when it arrives); never updated."""
        if operation.action != "create":
            raise ValidationError.at(
                ("operations", index, "action"),
                "unsupported",
                "Words entries are never edited (their author withdraws one with delete); "
                "safety alerts are only raised.",
            )
        try:
            if operation.type == "safetyAlert":
                alert = validate(AlertIn, {**data, "id": operation.id}, where)
                raised = alerts.raise_alert(self.runtime, self.caller, operation.family_id, alert)
                return {"opId": operation.op_id, "status": "applied", **alerts.sync_result(raised)}
            entry = validate(WordsIn, {**data, "id": operation.id}, where)
            made = words.create_words(self.runtime, self.caller, operation.family_id, entry)
        except ConflictError as clash:
            raise SyncConflictError(clash.extensions.get("current"), []) from None
        return self._applied(operation, made.document)

    def _agenda_item(
        self, operation: Operation, data: dict[str, Any], where: tuple[Any, ...]
    ) -> dict[str, Any]:
        if operation.action != "create":
            raise ValidationError.at(
                ("operations", where[1], "action"),
                "unsupported",
                "Agenda items are created; edit the agenda to change them.",
            )
        agenda_id = canonical_id(str(data.pop("agendaId", "")))
        if agenda_id is None:
            raise NotFoundError("No such agenda.")
        body = validate(models.AgendaItemIn, {**data, "id": operation.id}, where)
        try:
            stored, _ = case.add_agenda_item(
                self.runtime, self.caller, operation.family_id, agenda_id, body
            )
        except ConflictError:
            raise SyncConflictError(
                None, [{"field": "items", "yours": body.text, "theirs": None}]
            ) from None
        return {
            "opId": operation.op_id,
            "status": "applied",
            "id": operation.id,
            "version": version_of(stored),
        }

    def _sign_off(self, operation: Operation, index: int) -> dict[str, Any]:
        if operation.action != "create":
            raise ValidationError.at(
                ("operations", index, "action"), "unsupported", "A sign-off is created, once."
            )
        base = None if operation.base_version is None else operation.base_version.strip('"')
        try:
            stored, _ = visits.sign_off(
                self.runtime, self.caller, operation.family_id, operation.id, None, base
            )
        except PreconditionFailedError as moved:
            shown = moved.extensions.get("current")
            raise SyncConflictError(shown, self._fields(shown, {}, {"outcome"})) from None
        return self._applied(operation, stored)
