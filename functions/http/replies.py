"""What a handler answers, and how it is encoded: JSON, camelCase models, ETags, pages, 304."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import azure.functions as func

NO_STORE = "no-store"  # answers carry case data and SAS links; an endpoint may say otherwise


@dataclass
class Reply:
    body: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


def record_reply(body: dict[str, Any], status: int = 200, location: str | None = None) -> Reply:
    """A single record, with its version as the ETag."""
    headers = {"ETag": f'"{body["version"]}"'} if body.get("version") else {}
    if location:
        headers["Location"] = location
    return Reply(body, status, headers)


def listing(
    documents: list[dict[str, Any]],
    shown: Callable[[Any], Any] | None,
    following: str | None,
) -> Reply:
    """One page of a list: its items as the caller may see them (``shown``, unless the service
    shaped them already), and the next page's token."""
    items = documents if shown is None else [shown(d) for d in documents]
    return Reply({"items": items, "next": following})


def encode(reply: Reply) -> func.HttpResponse:
    headers = dict(reply.headers)
    if reply.body is None:
        return func.HttpResponse(status_code=reply.status, headers=headers)
    body = (
        reply.body  # serialised by the handler (a large document built a page at a time)
        if isinstance(reply.body, bytes)
        else json.dumps(to_jsonable(reply.body), separators=(",", ":"), ensure_ascii=False)
    )
    return func.HttpResponse(
        body=body,
        status_code=reply.status,
        headers=headers,
        mimetype=reply.content_type,
        charset="utf-8",
    )


def to_jsonable(value: Any) -> Any:
    pydantic = sys.modules.get("pydantic")  # a model instance means pydantic is loaded
    if pydantic is not None and isinstance(value, pydantic.BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_none=False)
    return value
