"""Validation with pydantic, reported as a ValidationError that says where and what kind."""

from __future__ import annotations

from typing import Any, TypeVar

import pydantic

from shared.errors import ValidationError

M = TypeVar("M", bound=pydantic.BaseModel)


def validate(model: type[M], document: Any, where: tuple[str | int, ...]) -> M:
    try:
        return model.model_validate(document)
    except pydantic.ValidationError as error:
        raise ValidationError(
            "The request does not match the expected shape.",
            [
                {"loc": [*where, *item["loc"]], "type": item["type"]}
                for item in error.errors(include_url=False, include_input=False)
            ],
        ) from None
