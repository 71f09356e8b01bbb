"""Request and response models of the case records: camelCase JSON, unknown fields rejected."""

from datetime import UTC, date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from shared.models import ApiModel, InputModel

Visibility = Literal["family", "partners", "professionals"]
VisitStatus = Literal["scheduled", "completed", "cancelled"]
ActionStatus = Literal["open", "in_progress", "done", "dropped"]
RetentionClass = Literal["looked-after", "adoption", "child-in-need", "default"]

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
CmsId = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][\w.:/-]*$"
    ),
]
ChronologyCategory = Literal[
    "family", "health", "education", "safeguarding", "legal", "placement", "other"
]


def _canonical_uuid(value: str) -> str:
    return str(UUID(value))


def _uk_mobile(value: str) -> str:
    from pydantic_core import PydanticCustomError

    from shared.sms.phone import InvalidPhoneNumberError, normalise_mobile

    try:
        return normalise_mobile(value)
    except InvalidPhoneNumberError as error:
        raise PydanticCustomError(error.kind, str(error)) from None


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _rfc3339(value: datetime) -> str:
    return value.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


UtcDateTime = Annotated[
    AwareDatetime,
    AfterValidator(_utc),
    PlainSerializer(_rfc3339, return_type=str, when_used="json"),
]


def _language_tag(value: str) -> str:
    from pydantic_core import PydanticCustomError

    from shared.sms.language_tags import InvalidLanguageTagError, normalise_tag

    try:
        return normalise_tag(value)
    except InvalidLanguageTagError as error:
        raise PydanticCustomError("language_tag", str(error)) from None


Phone = Annotated[str, StringConstraints(max_length=32), AfterValidator(_uk_mobile)]
LanguageTag = Annotated[
    str,
    StringConstraints(min_length=2, max_length=35),
    AfterValidator(_language_tag),
    WithJsonSchema({"type": "string", "minLength": 2, "maxLength": 35, "examples": ["pl"]}),
]
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]

Id = Annotated[
    str,
    StringConstraints(min_length=32, max_length=45),
    AfterValidator(_canonical_uuid),
    WithJsonSchema({"type": "string", "format": "uuid"}),
]


class Actor(ApiModel):
    id: str
    name: str
    kind: Literal["staff", "family", "partner"]


class RecordOut(ApiModel):
    """Fields every record carries in a response."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str
    type: str
    created_at: str
    created_by: Actor
    updated_at: str
    updated_by: Actor
    version: str


class FamilyRecordOut(RecordOut):
    family_id: str


# --- Staff directory --------------------------------------------------------------------------


class StaffIn(InputModel):
    display_name: Name
    team_ids: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=50
    )
    phone: Phone | None = None


class StaffOut(ApiModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    oid: str
    display_name: str
    team_ids: list[str]
    phone: str | None = None
    updated_at: str | None = None
    version: str


# --- Families ---------------------------------------------------------------------------------


class FamilyIn(InputModel):
    id: Id | None = None
    display_name: Name
    team_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    worker_ids: list[Id] = Field(default_factory=list, max_length=20)
    retention_class: RetentionClass = "default"
    closed_at: UtcDateTime | None = None
    adoption_order_at: UtcDateTime | None = None


class FamilyPatch(InputModel):
    display_name: Name | None = None
    team_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    worker_ids: list[Id] | None = Field(default=None, max_length=20)
    retention_class: RetentionClass | None = None
    closed_at: UtcDateTime | None = None
    adoption_order_at: UtcDateTime | None = None
    legal_hold: bool | None = None


class FamilyOut(RecordOut):
    display_name: str
    team_id: str | None = None
    worker_ids: list[str] | None = None
    retention_class: str | None = None
    closed_at: str | None = None
    adoption_order_at: str | None = None
    legal_hold: bool | None = None
    retain_until: str | None = None
    retention_pending: list[str] | None = None


# --- Members ----------------------------------------------------------------------------------


class MemberIn(InputModel):
    id: Id | None = None
    display_name: Name
    relationship: Text
    phone: Phone | None = None
    email: Email | None = None
    preferred_language: LanguageTag = "en"
    date_of_birth: date | None = None
    date_of_death: date | None = None
    child: bool = False
    sms_reminders: bool = False
    cms_id: CmsId | None = None

    @model_validator(mode="after")
    def _born_before_death(self) -> "MemberIn":
        if self.date_of_birth and self.date_of_death and self.date_of_death < self.date_of_birth:
            raise ValueError("dateOfDeath cannot be before dateOfBirth")
        return self


class MemberPatch(InputModel):
    display_name: Name | None = None
    relationship: Text | None = None
    phone: Phone | None = None
    email: Email | None = None
    preferred_language: LanguageTag | None = None
    date_of_birth: date | None = None
    date_of_death: date | None = None
    child: bool | None = None
    sms_reminders: bool | None = None
    cms_id: CmsId | None = None


class MemberOut(FamilyRecordOut):
    display_name: str
    relationship: str
    phone: str | None = None
    email: str | None = None
    preferred_language: str = "en"
    date_of_birth: str | None = None
    date_of_death: str | None = None
    child: bool = False
    sms_reminders: bool = False
    linked: bool = False
    cms_id: str | None = None


# --- Visits -----------------------------------------------------------------------------------


Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class ChildSeen(InputModel):
    """Whether a child of the family was seen at a visit, seen alone, and their bedroom seen."""

    member_id: Id
    seen: bool
    seen_alone: bool
    not_seen_alone_reason: Reason | None = None
    bedroom_seen: bool | None = None


class VisitOutcome(InputModel):
    """What statutory guidance asks a record of a visit to show."""

    happened: bool
    reason_not_happened: Reason | None = None
    children_seen: list[ChildSeen] = Field(default_factory=list, max_length=30)
    present: list[Text] = Field(default_factory=list, max_length=30)
    child_views: LongText | None = None


class VisitIn(InputModel):
    id: Id | None = None
    starts_at: UtcDateTime
    ends_at: UtcDateTime
    location: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None
    worker_id: Id | None = None
    status: VisitStatus = "scheduled"
    outcome: VisitOutcome | None = None
    significant: bool | None = None


class VisitPatch(InputModel):
    starts_at: UtcDateTime | None = None
    ends_at: UtcDateTime | None = None
    location: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None
    worker_id: Id | None = None
    status: VisitStatus | None = None
    outcome: VisitOutcome | None = None
    significant: bool | None = None


class ChildSeenOut(ApiModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    member_id: str
    seen: bool
    seen_alone: bool
    not_seen_alone_reason: str | None = None
    bedroom_seen: bool | None = None


class VisitOutcomeOut(ApiModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    happened: bool
    reason_not_happened: str | None = None
    children_seen: list[ChildSeenOut] = Field(default_factory=list)
    present: list[str] = Field(default_factory=list)
    child_views: str | None = None


class VisitOut(FamilyRecordOut):
    starts_at: str
    ends_at: str
    location: str | None = None
    worker_id: str | None = None
    status: str
    outcome: VisitOutcomeOut | None = None
    significant: bool = False
    recorded_at: str | None = None
    recorded_by: Actor | None = None
    signed_off_at: str | None = None
    signed_off_by: Actor | None = None
    recorded_in_cms_at: str | None = None
    recorded_in_cms_by: Actor | None = None


# --- Agendas ----------------------------------------------------------------------------------


class AgendaItem(InputModel):
    id: Id
    text: LongText
    done: bool = False


class AgendaItemOut(ApiModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str
    text: str
    done: bool
    added_by: Actor | None = None
    visibility: Visibility | None = None  # a partner's item: who besides staff sees it


class AgendaIn(InputModel):
    id: Id | None = None
    visit_id: Id | None = None
    title: Text
    items: list[AgendaItem] = Field(default_factory=list, max_length=200)
    visibility: Visibility | None = None


class AgendaPatch(InputModel):
    visit_id: Id | None = None
    title: Text | None = None
    items: list[AgendaItem] | None = Field(default=None, max_length=200)
    visibility: Visibility | None = None


class AgendaItemIn(InputModel):
    id: Id | None = None
    text: LongText


class AgendaOut(FamilyRecordOut):
    visit_id: str | None = None
    title: str
    items: list[AgendaItemOut]
    visibility: str


# --- Notes ------------------------------------------------------------------------------------


class NoteIn(InputModel):
    id: Id | None = None
    visit_id: Id | None = None
    body: LongText
    visibility: Visibility | None = None
    significant: bool | None = None


class NotePatch(InputModel):
    visit_id: Id | None = None
    body: LongText | None = None
    visibility: Visibility | None = None
    significant: bool | None = None


class DisputeIn(InputModel):
    id: Id | None = None
    statement: LongText


class DisputeOut(ApiModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str
    statement: str
    created_at: str
    created_by: Actor


class NoteOut(FamilyRecordOut):
    visit_id: str | None = None
    body: str
    visibility: str
    disputed: bool = False
    disputes: list[DisputeOut] | None = None
    significant: bool = False


# --- Plans ------------------------------------------------------------------------------------


class PlanAction(InputModel):
    id: Id
    text: LongText
    owner: Name
    due_date: date | None = None
    status: ActionStatus = "open"


class PlanActionOut(ApiModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str
    text: str
    owner: str
    due_date: str | None = None
    status: str


class PlanIn(InputModel):
    id: Id | None = None
    title: Text
    actions: list[PlanAction] = Field(default_factory=list, max_length=200)
    visibility: Visibility | None = None
    visit_id: Id | None = None
    significant: bool | None = None


class PlanPatch(InputModel):
    title: Text | None = None
    actions: list[PlanAction] | None = Field(default=None, max_length=200)
    visibility: Visibility | None = None
    visit_id: Id | None = None
    significant: bool | None = None


class PlanOut(FamilyRecordOut):
    title: str
    actions: list[PlanActionOut]
    visibility: str
    visit_id: str | None = None
    significant: bool = False


# --- Comments ---------------------------------------------------------------------------------


class CommentIn(InputModel):
    id: Id | None = None
    body: LongText


class CommentPatch(InputModel):
    body: LongText | None = None


class CommentOut(FamilyRecordOut):
    target_type: str
    target_id: str
    body: str
    visibility: str | None = None  # its target's, or narrower (a partner's)


# --- Media ------------------------------------------------------------------------------------

MediaKind = Literal["photo", "audio", "video"]
MediaStatus = Literal["awaiting_upload", "processing", "ready", "rejected"]
Caption = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
FileName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]


def _bare_content_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


ContentType = Annotated[
    str, StringConstraints(min_length=3, max_length=100), AfterValidator(_bare_content_type)
]


class MediaIn(InputModel):
    id: Id | None = None
    kind: MediaKind
    content_type: ContentType
    size_bytes: Annotated[int, Field(strict=True, gt=0)]
    file_name: FileName | None = None
    caption: Caption | None = None
    visibility: Visibility | None = None
    visit_id: Id | None = None
    note_id: Id | None = None
    significant: bool | None = None


class MediaPatch(InputModel):
    caption: Caption | None = None
    visibility: Visibility | None = None
    transcript_approved: bool | None = None
    significant: bool | None = None


class MediaOut(FamilyRecordOut):
    """A media record as stored; links and the transcript are added per caller."""

    kind: str
    content_type: str
    size_bytes: int
    file_name: str | None = None
    caption: str | None = None
    visibility: str
    visit_id: str | None = None
    note_id: str | None = None
    status: MediaStatus
    rejected_reason: str | None = None
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None
    transcript_approved: bool = False
    significant: bool = False


class ThumbnailOut(ApiModel):
    size: Literal["small", "large"]
    url: str
    width: int | None = None
    height: int | None = None


class TranscriptSegmentOut(ApiModel):
    start: float
    end: float
    text: str


class TranscriptOut(ApiModel):
    status: Literal["pending", "draft", "approved", "failed"]
    text: str = ""
    segments: list[TranscriptSegmentOut] = Field(default_factory=list)
    language: str | None = None


class UploadOut(ApiModel):
    url: str
    method: Literal["PUT"] = "PUT"
    headers: dict[str, str]
    expires_at: str


class MediaView(MediaOut):
    """What a caller receives: short-lived links when ready, the transcript if they may see it,
    and the upload slot when one was just issued."""

    download_url: str | None = None
    poster_url: str | None = None
    thumbnails: list[ThumbnailOut] | None = None
    transcript: TranscriptOut | None = None
    upload: UploadOut | None = None


# --- Invitations and audit --------------------------------------------------------------------


class InvitationIn(InputModel):
    member_id: Id


class InvitationOut(ApiModel):
    code: str
    expires_at: str


class RedeemIn(InputModel):
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class RedeemOut(ApiModel):
    family_id: str
    member_id: str


class LinkOut(ApiModel):
    """A family sign-in linked to a member, as staff see it: no token claims."""

    id: str
    linked_at: str
    last_seen_at: str | None = None


class AuditEventOut(ApiModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str
    family_id: str
    at: str
    actor: dict[str, object]
    action: str
    record_type: str
    record_id: str | None = None
    outcome: str
    detail: str | None = None
    seq: int | None = None
    prev: str | None = None
    hash: str | None = None


# --- Statutory visit recording: the case management system's copy -----------------------------


class CaseRecordChild(ApiModel):
    """A child as the case management system records them at a visit."""

    member_id: str
    name: str
    cms_id: str | None
    seen: bool
    seen_alone: bool
    bedroom_seen: bool | None
    not_seen_alone_reason: str | None = None


class CaseRecordOut(ApiModel):
    visit: VisitOut
    children: list[CaseRecordChild]
    text: str


# --- Chronology -------------------------------------------------------------------------------


def _plausible_date(value: date) -> date:
    if value.year < 1900:
        raise ValueError("A chronology date is 1900 or later.")
    return value


ChronologyDate = Annotated[date, AfterValidator(_plausible_date)]
Summary = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class ChronologyEventIn(InputModel):
    id: Id | None = None
    date: ChronologyDate
    category: ChronologyCategory
    summary: Summary
    visibility: Visibility | None = None


class ChronologyEventPatch(InputModel):
    date: ChronologyDate | None = None
    category: ChronologyCategory | None = None
    summary: Summary | None = None
    visibility: Visibility | None = None


class ChronologyEventOut(FamilyRecordOut):
    date: str
    category: str
    summary: str
    visibility: str


class ChronologySource(ApiModel):
    type: str
    id: str


class ChronologyItemOut(ApiModel):
    serial: int
    date: str
    category: ChronologyCategory
    summary: str
    source: ChronologySource
    visibility: str


class ChronologyOut(ApiModel):
    items: list[ChronologyItemOut]
