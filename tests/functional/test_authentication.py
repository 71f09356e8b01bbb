"""Every protected endpoint answers 401 with WWW-Authenticate: Bearer to a bad token."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from functions import system
from local.emulators import Emulators
from shared.dev_issuer import dev_issuer_url, key_id, load_or_create_key
from shared.settings import get_settings
from tests.functional.calls import call
from tests.tokens import staff_token


def _claims(**overrides: object) -> dict[str, object]:
    settings = get_settings()
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": dev_issuer_url("staff"),
        "aud": settings.staff_audience,
        "tid": settings.staff_tenant_id,
        "oid": "0c0ffee0-0000-4000-8000-000000000001",
        "sub": "a-pairwise-subject",
        "scp": "access_as_user",
        "roles": ["SocialWorker"],
        "nbf": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def _signed(**overrides: object) -> str:
    key = load_or_create_key(get_settings().dev_issuer_key_path)
    return jwt.encode(_claims(**overrides), key, algorithm="RS256", headers={"kid": key_id(key)})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _alg_none() -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(_claims()).encode())}."


def _hs256_with_public_key() -> str:
    key = load_or_create_key(get_settings().dev_issuer_key_path)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": key_id(key)}).encode())
    body = _b64(json.dumps(_claims()).encode())
    import hashlib
    import hmac

    signature = hmac.new(public, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"


def _unknown_kid() -> str:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(_claims(), stranger, algorithm="RS256", headers={"kid": "unknown"})


def _tampered() -> str:
    header, _, signature = _signed().split(".")
    return f"{header}.{_b64(json.dumps(_claims(roles=['HeadOfService'])).encode())}.{signature}"


BAD_TOKENS: dict[str, Callable[[], str | None]] = {
    "no token": lambda: None,
    "alg none": _alg_none,
    "HS256 signed with the public key": _hs256_with_public_key,
    "wrong aud": lambda: _signed(aud="api://another-app"),
    "wrong iss": lambda: _signed(iss="https://login.microsoftonline.com/evil/v2.0"),
    "expired": lambda: _signed(exp=int(time.time()) - 3600),
    "not yet valid": lambda: _signed(nbf=int(time.time()) + 3600),
    "unknown kid": _unknown_kid,
    "tampered payload": _tampered,
    "wrong tenant": lambda: _signed(tid="00000000-0000-4000-8000-0000000000ff"),
    "tenant not a GUID": lambda: _signed(tid="contoso.onmicrosoft.com"),
    "object id not a GUID": lambda: _signed(oid="someone"),
    "object id with a slash": lambda: _signed(oid="0c0ffee0/../x"),
    "object id not a string": lambda: _signed(oid=7),
    "app-only (idtyp app)": lambda: _signed(idtyp="app"),
    "app-only (no scp)": lambda: _signed(scp=None, sub="0c0ffee0-0000-4000-8000-000000000001"),
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_bad_token_gets_401_with_www_authenticate(case: str) -> None:
    token = BAD_TOKENS[case]()
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    status, payload, response = call(system.me_get, path="/api/v1/me", headers=headers)
    assert status == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.mimetype == "application/problem+json"
    assert payload["status"] == 401
    if token:
        assert token not in response.get_body().decode()


def test_a_good_token_is_accepted(stack: Emulators) -> None:
    """The cases above differ from this token in one claim each."""
    headers = {"Authorization": f"Bearer {_signed()}"}
    status, payload, _ = call(system.me_get, path="/api/v1/me", headers=headers)
    assert status == 200, payload


def test_dev_issuer_tokens_are_refused_when_the_dev_issuer_is_disabled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = staff_token("SocialWorker")
    monkeypatch.setenv("AUTH_DEV_ISSUER_ENABLED", "false")
    from shared.bootstrap import reset_runtime

    reset_runtime()
    status, _, _ = call(
        system.me_get, path="/api/v1/me", headers={"Authorization": f"Bearer {token}"}
    )
    assert status == 401
