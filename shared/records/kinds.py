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
    from shared.records.models import RecordOut
    from shared.settings import Settings

Check = Callable[[Mapping[str, Any], "Settings"], None]
"""A rule a record of the kind must keep, given the app's settings (a size limit, say)."""
Prepare = Callable[[Mapping[str, Any] | None, dict[str, Any], Mapping[str, str]], None]


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
    """Agenda items are attributed to whoever added them, and keep that, and the visibility a
    partner's item was added with, through edits."""
    known = {item["id"]: item for item in (current or {}).get("items", [])}
    for item in document.get("items", []):
        previous = known.get(item["id"])
        item["addedBy"] = previous.get("addedBy") if previous else dict(actor)
        if previous and previous.get("visibility"):
            item["visibility"] = previous["visibility"]


def _without_attribution(document: Mapping[str, Any]) -> dict[str, Any]:
    items = [
        {k: v for k, v in item.items() if k not in ("addedBy", "visibility")}
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
        return getattr(importlib.import_module("shared.records.models"), self.models + suffix)

    @property
    def has_visibility(self) -> bool:
        return self.staff_visibility is not None


VISIT = Kind(
    "visit",
    "visit",
    "Visit",
    checks=(_visit_times,),
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
)
PLAN = Kind(
    "plan",
    "plan",
    "Plan",
    staff_visibility="family",
    checks=(_unique_ids("actions"),),
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
    staff_only_fields=frozenset(),
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
    staff_only_fields=frozenset({"visibility", "transcriptApproved"}),
    references=(("visitId", "visit"), ("noteId", "note")),
)

KINDS: dict[str, Kind] = {
    k.record_type: k for k in (VISIT, AGENDA, NOTE, PLAN, COMMENT, MEMBER, MEDIA)
}
COMMENT_TARGETS: dict[str, str] = {
    "notes": "note",
    "agendas": "agenda",
    "plans": "plan",
    "media": "media",
}
