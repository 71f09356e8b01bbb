"""``?limit=``: a small decimal integer in range, or a 400; never a 500 or a surprise."""

from __future__ import annotations

import pytest

from shared.errors import BadRequestError
from shared.records.service import page_limit
from shared.sync.pull import sync_limit

MALFORMED = [
    "9" * 5000,
    "9" * 20,
    "-1",
    "0",
    "",
    " 5",
    "+5",
    "1_0",
    "5.0",
    "0x10",
    "\u0661\u0662",
    "\uff15",
    "5\x00",
    "1e2",
]


@pytest.mark.parametrize("raw", MALFORMED)
def test_a_malformed_page_limit_is_400(raw: str) -> None:
    with pytest.raises(BadRequestError):
        page_limit(raw)


@pytest.mark.parametrize("raw", [*MALFORMED, "1001"])
def test_a_malformed_sync_limit_is_400(raw: str) -> None:
    with pytest.raises(BadRequestError):
        sync_limit(raw)


def test_limits_in_range_are_read() -> None:
    assert (page_limit(None), page_limit("1"), page_limit("100")) == (50, 1, 100)
    assert sync_limit("1000") == 1000
