"""Opaque, tamper-evident tokens (list ``next`` links, sync tokens).

A token is base64url JSON plus an HMAC-SHA256 over it, bound to a scope (who asked, for what),
so a token edited by hand, or issued to another caller or for another list, is refused (400).
A token is ASCII by construction; anything else a client sends is refused before it is compared.
The key is generated once per deployment and kept in the directory container.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shared.errors import BadRequestError
from shared.ports.directory import Directory
from shared.ports.errors import AlreadyExistsError, MissingError

if TYPE_CHECKING:
    from shared.ports.records import Document, QueryPage
    from shared.ports.runtime import Signer

KEY_DOCUMENT_ID = "secret:opaque-token-key"
MAX_TOKEN_LENGTH = 16_384


class TokenSigner:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def seal(self, scope: str, payload: dict[str, Any]) -> str:
        body = _b64encode(json.dumps(payload, separators=(",", ":")).encode())
        return f"{body}.{self._mac(scope, body)}"

    def open(self, scope: str, token: str) -> dict[str, Any]:
        body, _, mac = token.partition(".")
        if len(token) > MAX_TOKEN_LENGTH or not token.isascii() or not body or not mac:
            raise BadRequestError("The token is malformed.")
        if not hmac.compare_digest(mac, self._mac(scope, body)):
            raise BadRequestError("The token is not valid for this request.")
        try:
            payload = json.loads(_b64decode(body))
        except ValueError:
            raise BadRequestError("The token is malformed.") from None
        if not isinstance(payload, dict):
            raise BadRequestError("The token is malformed.")
        return payload

    def _mac(self, scope: str, body: str) -> str:
        digest = hmac.new(self._key, f"{scope}\n{body}".encode(), hashlib.sha256).digest()
        return _b64encode(digest)


def sealed_page(
    signer: Signer, scope: str, token: str | None, fetch: Callable[[str | None], QueryPage]
) -> tuple[list[Document], str | None]:
    """One page of a list whose ``next`` token seals the store's continuation for ``scope`` (a
    token sealed for another list, family or caller is refused): the page's items, fetched from
    where ``token`` left off, and the token of the page after it, or None at the end."""
    continuation = signer.open(scope, token)["c"] if token else None
    page = fetch(continuation)
    following = signer.seal(scope, {"c": page.continuation}) if page.continuation else None
    return page.items, following


def load_or_create_key(directory: Directory) -> bytes:
    """The deployment's key, made by whichever instance first needs it."""
    document = directory.read(KEY_DOCUMENT_ID)
    if document is None:
        candidate = {"id": KEY_DOCUMENT_ID, "type": "secret", "key": secrets.token_hex(32)}
        try:
            document = directory.create(candidate)
        except AlreadyExistsError:
            document = directory.read(KEY_DOCUMENT_ID)
    if document is None:
        raise MissingError(KEY_DOCUMENT_ID)
    return bytes.fromhex(str(document["key"]))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        raise BadRequestError("The token is malformed.") from None
