"""In my words: family members' own entries, staff acknowledgement, the managers' waiting list."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import (
    Call,
    Reply,
    deleted,
    endpoint,
    filters,
    listed_page,
    listing,
    record_reply,
)
from functions.http.records import read_record
from shared.bootstrap import get_runtime
from shared.lazy import LazyModule
from shared.records.kinds import WORDS

if TYPE_CHECKING:
    from shared.records import words as models
    from shared.services import words
else:
    models = LazyModule("shared.records.words")
    words = LazyModule("shared.services.words")

bp = func.Blueprint()

ENTRIES = "families/{familyId}/words"
ENTRY = "families/{familyId}/words/{recordId}"
TAGS = ("words",)


@endpoint(
    bp,
    name="words_create",
    route=ENTRIES,
    methods=["POST"],
    summary="Put something in your own words (family members)",
    body=lambda: models.WordsIn,
    response=lambda: models.WordsOut,
    status=201,
    tags=TAGS,
    location=ENTRY,
    example={"kind": "good-news", "text": "I got a certificate at school for reading."},
)
def words_create(call: Call) -> Reply:
    made = words.write(
        get_runtime(), call.caller, call.route_id("familyId"), call.json(models.WordsIn)
    )
    return call.created(made.document) if made.created else record_reply(made.document)


@endpoint(
    bp,
    name="words_list",
    route=ENTRIES,
    methods=["GET"],
    summary="The family's words entries, newest first",
    response=lambda: models.WordsOut,
    tags=TAGS,
    query=filters(WORDS),
)
def words_list(call: Call) -> Reply:
    return listed_page(call, WORDS)


@endpoint(
    bp,
    name="words_get",
    route=ENTRY,
    methods=["GET"],
    summary="Read a words entry",
    response=lambda: models.WordsOut,
    tags=TAGS,
)
def words_get(call: Call) -> Reply:
    return read_record(call, WORDS, "recordId")


@endpoint(
    bp,
    name="words_delete",
    route=ENTRY,
    methods=["DELETE"],
    summary="Withdraw your own words entry (its author only)",
    status=204,
    tags=TAGS,
)
def words_delete(call: Call) -> Reply:
    return deleted(call, WORDS, "recordId")


@endpoint(
    bp,
    name="words_acknowledge",
    route=ENTRY + "/acknowledge",
    methods=["POST"],
    summary="Acknowledge a words entry (staff; the first acknowledgement is kept)",
    response=lambda: models.WordsOut,
    tags=TAGS,
    statuses=(412,),
)
def words_acknowledge(call: Call) -> Reply:
    return record_reply(
        words.acknowledge(
            get_runtime(), call.caller, call.route_id("familyId"), call.route_id("recordId")
        )
    )


@endpoint(
    bp,
    name="words_unacknowledged",
    route="words/unacknowledged",
    methods=["GET"],
    summary="Words entries nobody acknowledged within WORDS_ACK_DAYS, oldest first (managers)",
    response=lambda: models.WordsOut,
    tags=TAGS,
)
def words_unacknowledged(call: Call) -> Reply:
    found = words.unacknowledged(
        get_runtime(),
        call.caller,
        *call.page(),
    )
    return listing(found.documents, None, found.next)
