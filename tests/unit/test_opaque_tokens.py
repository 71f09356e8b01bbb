"""Sealed tokens (list ``next`` links, sync tokens): anything a client sends back is a 400 or a
payload, never a crash."""

from __future__ import annotations

import pytest

from shared.errors import BadRequestError
from shared.opaque import TokenSigner

SIGNER = TokenSigner(b"k" * 32)


def test_a_sealed_token_opens_in_its_own_scope() -> None:
    token = SIGNER.seal("list:a", {"c": "continuation"})
    assert SIGNER.open("list:a", token) == {"c": "continuation"}


@pytest.mark.parametrize(
    "token",
    [
        "é.abc",
        "abc.é",
        "a.\u20ac\u20ac",
        "\x00.\x00",
        "\udc80.\udc80",
        "abc.def",
        ".",
        "a" * 20_000 + ".b",
    ],
)
def test_a_token_the_client_made_up_is_400(token: str) -> None:
    with pytest.raises(BadRequestError):
        SIGNER.open("list:a", token)


def test_a_token_of_another_scope_is_400() -> None:
    token = SIGNER.seal("list:a", {"c": "x"})
    with pytest.raises(BadRequestError):
        SIGNER.open("list:b", token)
