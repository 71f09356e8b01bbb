"""What differs between the kinds of case record: models, defaults and who may write them.

A kind names its models (``Visit`` stands for ``VisitIn``, ``VisitPatch`` and ``VisitOut`` of
``shared.records.models``); they are imported the first time one is used, so registering the
endpoints at a cold start builds no model.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from shared.errors import PayloadTooLargeError, ValidationError

if TYPE_CHECKING:
    from shared.models import InputModel
    from shared.ports.records import RecordStore
    from shared.records.models import RecordOut
    from shared.settings import Settings

Check = Callable[[Mapping[str, Any], "Settings"], None]
"""A rule a record of the kind must keep, given the app's settings (a size limit, say)."""
Prepare = Callable[[Mapping[str, Any] | None, dict[str, Any], Mapping[str, str]], None]
"""Settles what the server owns before a write: (the record as it was or None, the record to
write, stamped with ``updatedAt``, and who writes it)."""
Verify = Callable[["RecordStore", Mapping[str, Any] | None, Mapping[str, Any]], None]
"""A rule that reads other records of the family: (the store, the record as it was or None, the
record to write)."""


def _visit_times(document: Mapping[str, Any], settings: Settings) -> None:
    if str(document["endsAt"]) <= str(document["startsAt"]):
        raise ValidationError.at(
            ("body", "endsAt"), "ends_before_start", "A visit must end after it starts."
        )


def _unique_ids(field_name: str) -> Check:
    def check(document: Mapping[str, Any], settings: Settings) -> None:
        ids = [item["id"] for item in document.get(field_name) or []]
        if len(ids) != len(set(ids)):
            raise ValidationError.at(("body", field_name), "duplicate_id", "Ids must be unique.")

    return check


def _attribute_items(
    current: Mapping[str, Any] | None, document: dict[str, Any], actor: Mapping[str, str]
) -> None:
    """Agenda items are attributed to whoever added them, and when (``addedAt``, kept for the
    evaluation and not shown), and keep both, and the visibility a partner's item was added
    with, through edits."""
    known = {item["id"]: item for item in (current or {}).get("items", [])}
    for item in document.get("items", []):
        previous = known.get(item["id"])
        item["addedBy"] = previous.get("addedBy") if previous else dict(actor)
        added = previous.get("addedAt") if previous else document.get("updatedAt")
        if added:
            item["addedAt"] = added
        if previous and previous.get("visibility"):
            item["visibility"] = previous["visibility"]


ATTRIBUTION = ("addedBy", "addedAt", "visibility")


def _without_attribution(document: Mapping[str, Any]) -> dict[str, Any]:
    items = [
        {k: v for k, v in item.items() if k not in ATTRIBUTION}
        for item in document.get("items", [])
    ]
    return {**document, "items": items}


def _as_stored(document: Mapping[str, Any]) -> dict[str, Any]:
    return dict(document)


def _media_slot(document: Mapping[str, Any], settings: Settings) -> None:
    """An upload slot names an accepted content type for its kind and fits the kind's limit."""
    from shared.media.policy import ALLOWED_CONTENT_TYPES, KIND_NAMES, human_size

    kind = document["kind"]
    if document["contentType"] not in ALLOWED_CONTENT_TYPES[kind]:
        accepted = ", ".join(sorted(ALLOWED_CONTENT_TYPES[kind]))
        raise ValidationError.at(
            ("body", "contentType"),
            "unsupported_content_type",
            f"{KIND_NAMES[kind]} may be {accepted}.",
        )
    if document.get("status", "awaiting_upload") != "awaiting_upload":
        return
    limit = {
        "photo": settings.media_photo_max_bytes,
        "audio": settings.media_audio_max_bytes,
        "video": settings.media_video_max_bytes,
    }[kind]
    if document["sizeBytes"] > limit:
        raise PayloadTooLargeError(f"{KIND_NAMES[kind]} can be at most {human_size(limit)}.")


def _transcript_approvable(document: Mapping[str, Any], settings: Settings) -> None:
    if (
        document.get("transcriptApproved")
        and (document.get("transcript") or {}).get("status") != "draft"
    ):
        raise ValidationError.at(
            ("body", "transcriptApproved"),
            "no_transcript",
            "There is no transcript to approve yet.",
        )


def _media_state(
    current: Mapping[str, Any] | None, document: dict[str, Any], actor: Mapping[str, str]
) -> None:
    """A new slot awaits its upload; approving a transcript records who approved it."""
    if current is None:
        document["status"] = "awaiting_upload"
        return
    if bool(document.get("transcriptApproved")) == bool(current.get("transcriptApproved")):
        return
    if document.get("transcriptApproved"):
        document["transcriptApprovedBy"] = dict(actor)
    else:
        document.pop("transcriptApprovedBy", None)


def _visit_outcome(document: Mapping[str, Any], settings: Settings) -> None:
    """A reason whenever a child seen was not seen alone, or the visit did not happen; no child
    seen at a visit that did not happen, none seen alone who was not seen, none named twice."""
    outcome = document.get("outcome")
    if outcome is None:
        return
    where = ("body", "outcome")
    problems: list[dict[str, Any]] = []
    if not outcome.get("happened") and not outcome.get("reasonNotHappened"):
        problems.append({"loc": [*where, "reasonNotHappened"], "type": "reason_required"})
    seen_ids: set[str] = set()
    for index, child in enumerate(outcome.get("childrenSeen") or []):
        at = [*where, "childrenSeen", index]
        if child["memberId"] in seen_ids:
            problems.append({"loc": [*at, "memberId"], "type": "duplicate_id"})
        seen_ids.add(child["memberId"])
        if child.get("seen") and not outcome.get("happened"):
            problems.append({"loc": [*at, "seen"], "type": "seen_at_visit_not_held"})
        if child.get("seenAlone") and not child.get("seen"):
            problems.append({"loc": [*at, "seenAlone"], "type": "seen_alone_but_not_seen"})
        if child.get("seen") and not child.get("seenAlone") and not child.get("notSeenAloneReason"):
            problems.append({"loc": [*at, "notSeenAloneReason"], "type": "reason_required"})
    if problems:
        raise ValidationError(
            "A visit's record needs a reason whenever a child seen was not seen alone, or the "
            "visit did not happen, and names each child once.",
            problems,
        )


def _record_outcome(
    current: Mapping[str, Any] | None, document: dict[str, Any], actor: Mapping[str, str]
) -> None:
    """Setting or changing the outcome records who recorded it and when; a changed outcome needs
    signing off again. An outcome once recorded may be corrected, never removed."""
    before = (current or {}).get("outcome")
    after = _without_nulls(document.get("outcome"))
    if after is not None:
        document["outcome"] = after
    if before is not None and after is None:
        raise ValidationError.at(
            ("body", "outcome"),
            "null_not_allowed",
            "A visit's recorded outcome can be corrected but not removed.",
        )
    if after is None or after == before:
        return
    document["recordedAt"] = document["updatedAt"]
    document["recordedBy"] = dict(actor)
    document.pop("signedOffAt", None)
    document.pop("signedOffBy", None)


def _without_nulls(value: Any) -> Any:
    """A JSON value with every member that is null left out, at any depth."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def _children_of_family(
    store: RecordStore, current: Mapping[str, Any] | None, document: Mapping[str, Any]
) -> None:
    """Every child named in the outcome is a member of this family marked ``child``: the same
    422 whether the id is an adult's, another family's, a deleted member's or no one's."""
    outcome = document.get("outcome")
    if outcome is None or outcome == (current or {}).get("outcome"):
        return
    named = [child["memberId"] for child in outcome.get("childrenSeen") or []]
    if not named:
        return
    children = {
        str(m["id"]) for m in store.members(str(document["familyId"])) if m.get("child") is True
    }
    problems = [
        {"loc": ["body", "outcome", "childrenSeen", index, "memberId"], "type": "not_a_child"}
        for index, member_id in enumerate(named)
        if member_id not in children
    ]
    if problems:
        raise ValidationError(
            "Children seen must be members of this family marked as children.", problems
        )


View = Callable[[Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Kind:
    record_type: str
    label: str
    models: str  # the prefix of its models in shared.records.models
    staff_visibility: str | None = None
    family_may_create: bool = False
    family_may_edit_own: bool = False
    partner_may_create: bool = False
    newest_first: bool = True
    filters: tuple[str, ...] = ()
    checks: tuple[Check, ...] = field(default_factory=tuple)
    prepare: Prepare | None = None
    client_view: View = _as_stored
    staff_only_fields: frozenset[str] = frozenset({"visibility"})
    keeps_versions: bool = False
    references: tuple[tuple[str, str], ...] = ()  # (field, the record type it names)
    verify: Verify | None = None
    models_module: str = "shared.records.models"
    author_only: bool = False  # only its author (the member who wrote it) deletes it

    @property
    def create(self) -> type[InputModel]:
        return cast("type[InputModel]", self._model("In"))

    @property
    def patch(self) -> type[InputModel]:
        return cast("type[InputModel]", self._model("Patch"))

    @property
    def out(self) -> type[RecordOut]:
        return cast("type[RecordOut]", self._model("Out"))

    def _model(self, suffix: str) -> Any:
        return getattr(importlib.import_module(self.models_module), self.models + suffix)

    @property
    def has_visibility(self) -> bool:
        return self.staff_visibility is not None


VISIT = Kind(
    "visit",
    "visit",
    "Visit",
    checks=(_visit_times, _visit_outcome),
    prepare=_record_outcome,
    staff_only_fields=frozenset({"visibility", "significant"}),
    verify=_children_of_family,
)
AGENDA = Kind(
    "agenda",
    "agenda",
    "Agenda",
    staff_visibility="family",
    checks=(_unique_ids("items"),),
    prepare=_attribute_items,
    client_view=_without_attribution,
    references=(("visitId", "visit"),),
)
NOTE = Kind(
    "note",
    "note",
    "Note",
    staff_visibility="professionals",
    family_may_create=True,
    family_may_edit_own=True,
    filters=("visitId",),
    keeps_versions=True,
    references=(("visitId", "visit"),),
    staff_only_fields=frozenset({"visibility", "significant"}),
)
PLAN = Kind(
    "plan",
    "plan",
    "Plan",
    staff_visibility="family",
    filters=("visitId",),
    checks=(_unique_ids("actions"),),
    references=(("visitId", "visit"),),
    staff_only_fields=frozenset({"visibility", "significant"}),
)
COMMENT = Kind(
    "comment",
    "comment",
    "Comment",
    family_may_create=True,
    family_may_edit_own=True,
    partner_may_create=True,
    newest_first=False,
    staff_only_fields=frozenset(),
)
MEMBER = Kind(
    "member",
    "member",
    "Member",
    staff_only_fields=frozenset({"cmsId"}),
)

MEDIA = Kind(
    "media",
    "media item",
    "Media",
    staff_visibility="professionals",
    family_may_create=True,
    family_may_edit_own=True,
    filters=("visitId", "noteId"),
    checks=(_media_slot, _transcript_approvable),
    prepare=_media_state,
    staff_only_fields=frozenset({"visibility", "transcriptApproved", "significant"}),
    references=(("visitId", "visit"), ("noteId", "note")),
)
CHRONOLOGY_EVENT = Kind(
    "chronologyEvent",
    "chronology event",
    "ChronologyEvent",
    staff_visibility="professionals",
)

WORDS = Kind(
    "words",
    "words entry",
    "Words",
    family_may_create=True,
    family_may_edit_own=True,
    filters=("visitId",),
    staff_only_fields=frozenset(),
    references=(("visitId", "visit"),),
    models_module="shared.records.words",
    author_only=True,
)
"""A family member's own words (``shared.services.words``): never edited, withdrawn only by the
member who wrote them, seen by staff and the family (stored with ``visibility: "family"``)."""

KINDS: dict[str, Kind] = {
    k.record_type: k
    for k in (VISIT, AGENDA, NOTE, PLAN, COMMENT, MEMBER, MEDIA, CHRONOLOGY_EVENT, WORDS)
}
COMMENT_TARGETS: dict[str, str] = {
    "notes": "note",
    "agendas": "agenda",
    "plans": "plan",
    "media": "media",
}
