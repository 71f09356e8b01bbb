"""Query parameters, read strictly: what a client may send is exactly what the API documents."""

from __future__ import annotations

from shared.errors import BadRequestError


def bounded_integer(raw: str | None, name: str, low: int, high: int, default: int) -> int:
    """A decimal integer of ASCII digits from ``low`` to ``high``, or a 400.

    ``int()`` alone would also take spaces, signs, underscores and other scripts' digits, and
    raise ValueError past 4,300 digits; none of those is a limit a client means to send.
    """
    if raw is None:
        return default
    if raw.isascii() and raw.isdigit() and len(raw) <= len(str(high)) and low <= int(raw) <= high:
        return int(raw)
    raise BadRequestError(f"{name} must be an integer from {low} to {high}.")
