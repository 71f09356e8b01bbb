"""Words entries: what a family member, a child or young person above all, puts in their own words.

Four kinds: before a visit (what they want to say), after it (how it went, with the after-visit
check: whether they felt listened to and understood the plan, each 1 to 5), good news, and a
worry. An entry has text, media the family uploaded, or both, and may name the visit it is
about. It is never edited; its author withdraws it (``DELETE``). Staff acknowledge it once.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from shared.models import ApiModel, InputModel
from shared.records.models import Actor, FamilyRecordOut, Id, LongText

WordsKind = Literal["before-visit", "after-visit", "good-news", "worry"]
Score = Annotated[int, Field(strict=True, ge=1, le=5)]
MAX_MEDIA = 10


class Answers(InputModel):
    """The after-visit check, each from 1 (not at all) to 5 (completely)."""

    listened_to: Score | None = None
    understood_plan: Score | None = None


class WordsIn(InputModel):
    id: Id | None = None
    kind: WordsKind
    text: LongText | None = None
    media_ids: list[Id] = Field(default_factory=list, max_length=MAX_MEDIA)
    visit_id: Id | None = None
    answers: Answers | None = None

    @model_validator(mode="after")
    def _something_said(self) -> WordsIn:
        if not self.text and not self.media_ids:
            raise PydanticCustomError("words_empty", "An entry needs text, media or both.")
        if self.answers is not None and self.kind != "after-visit":
            raise PydanticCustomError(
                "answers_after_visit_only", "Answers are the after-visit check."
            )
        if len(set(self.media_ids)) != len(self.media_ids):
            raise PydanticCustomError("duplicate_id", "Each media item is attached once.")
        return self


class AnswersOut(ApiModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    listened_to: int | None = None
    understood_plan: int | None = None


class WordsOut(FamilyRecordOut):
    kind: str
    text: str | None = None
    media_ids: list[str] = Field(default_factory=list)
    visit_id: str | None = None
    answers: AnswersOut | None = None
    member_id: str | None = None
    acknowledged_at: str | None = None
    acknowledged_by: Actor | None = None
