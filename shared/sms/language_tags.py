"""Language tags (BCP 47, RFC 5646): checked and written one way with ``langcodes``.

A tag is letters, digits and hyphens, at most 35 characters, whose subtags the IANA registry
knows (``pl``, ``pt-BR``, ``zh-Hant``, ``ro-RO``); it is stored in its standard form (``PL-pl``
becomes ``pl-PL``, a deprecated code its replacement). ``best_match`` picks, of the languages a
borough has texts in, the one for a member: the tag itself, else its language alone
(``pl-PL`` gets ``pl``), else English.
"""

from __future__ import annotations

import re
from collections.abc import Collection

MAX_LENGTH = 35
SHAPE = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*")
FALLBACK = "en"


class InvalidLanguageTagError(ValueError):
    def __init__(self) -> None:
        super().__init__("A language is a BCP 47 tag such as en, pl or pt-BR.")


def normalise_tag(raw: str) -> str:
    """The standard form of a BCP 47 tag; ``InvalidLanguageTagError`` for anything else."""
    import langcodes

    text = raw.strip()
    if len(text) > MAX_LENGTH or not SHAPE.fullmatch(text) or not langcodes.tag_is_valid(text):
        raise InvalidLanguageTagError
    return str(langcodes.standardize_tag(text))


def best_match(tag: str | None, available: Collection[str]) -> str:
    """Of ``available`` tags, the one to use for ``tag`` (``FALLBACK`` when none fits)."""
    if not tag:
        return FALLBACK
    try:
        wanted = normalise_tag(tag)
    except InvalidLanguageTagError:
        return FALLBACK
    if wanted in available:
        return wanted
    primary = wanted.split("-", 1)[0]
    return primary if primary in available else FALLBACK
