"""Record ids are UUID strings; a path id that is not one cannot name a record."""

from __future__ import annotations

import uuid


def canonical_id(value: str) -> str | None:
    """The canonical (lowercase, hyphenated) form of a UUID string, or None."""
    if not isinstance(value, str) or len(value) != 36:
        return None
    try:
        parsed = str(uuid.UUID(value))
    except ValueError:
        return None
    return parsed if parsed == value.lower() else None


def new_id() -> str:
    return str(uuid.uuid4())
