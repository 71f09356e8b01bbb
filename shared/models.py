"""Models shared across features: camelCase JSON through an alias generator."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    """An API payload: camelCase on the wire, snake_case in Python.

    Validators are built on first use (``defer_build``), not at import: a cold start pays only
    for the models its first request touches.
    """

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, defer_build=True)


class InputModel(ApiModel):
    """A request body: unknown fields are rejected, never silently dropped."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        str_strip_whitespace=True,
        defer_build=True,
    )


class Me(ApiModel):
    id: str
    name: str
    kind: Literal["staff", "family", "partner"]
    roles: list[str]
    team_ids: list[str]
    family_ids: list[str]


class HealthReport(ApiModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str]
