"""Request bodies as I-JSON (RFC 7493): the JSON every client library writes, and nothing else.

A body is UTF-8 without a byte order mark; names are unique within an object (a duplicate is
read differently by different parsers, so a check could see one value and a store another);
numbers are finite and integers exact in a double (|n| < 2**53), which also keeps Python's
int-from-string limit (4,300 digits) out of reach; strings hold no lone surrogates (they cannot
be written back out as UTF-8). Nesting stops at ``MAX_DEPTH``, far deeper than any request of
this API and far shallower than the interpreter's recursion limit. Anything else is a
``BadRequestError`` whose detail starts with "The request body".
"""

from __future__ import annotations

import json
import math
from typing import Any

from shared.errors import BadRequestError

MAX_DEPTH = 32
MAX_EXACT_INTEGER = 2**53 - 1
MAX_INTEGER_DIGITS = len(str(MAX_EXACT_INTEGER))


class _RefusedError(ValueError):
    """Raised by a parse hook; becomes the ``BadRequestError`` it carries."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def parse_body(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequestError("The request body is not UTF-8.") from None
    try:
        document = json.loads(
            text,
            object_pairs_hook=_object,
            parse_int=_integer,
            parse_float=_float,
            parse_constant=_constant,
        )
    except _RefusedError as refused:
        raise BadRequestError(refused.detail) from None
    except (ValueError, RecursionError):
        raise BadRequestError("The request body is not valid JSON.") from None
    _check_depth_and_strings(document)
    return document


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        raise _RefusedError("The request body names a field twice in one object.")
    return document


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS or abs(int(text)) > MAX_EXACT_INTEGER:
        raise _RefusedError("The request body has an integer too large to be exact.")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _RefusedError("The request body has a number out of range.")
    return value


def _constant(text: str) -> Any:
    raise _RefusedError("The request body has NaN or Infinity, which JSON does not.")


def _check_depth_and_strings(document: Any) -> None:
    pending: list[tuple[Any, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            _check_string(value)
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise BadRequestError(f"The request body is nested deeper than {MAX_DEPTH} levels.")
        if isinstance(value, dict):
            for name in value:
                _check_string(name)
            pending.extend((item, depth + 1) for item in value.values())
        else:
            pending.extend((item, depth + 1) for item in value)


def _check_string(value: str) -> None:
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadRequestError("The request body has a lone surrogate in a string.") from None
