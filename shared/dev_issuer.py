"""The local development issuer: an RSA key generated on first use, kept in a git-ignored file.

Only ``AUTH_DEV_ISSUER_ENABLED`` (a local-only setting the Bicep never sets) makes the app trust
it. Its tokens look like Entra tokens (same audiences, tenants and claims) from another issuer.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.files import create_once
from shared.identity import Issuer, PrincipalKind, StaticKeys
from shared.settings import Settings

DEV_ISSUER_BASE = "https://dev-issuer.familystory.localhost"
DELEGATED_SCOPE = "access_as_user"


def dev_issuer_url(kind: PrincipalKind) -> str:
    return f"{DEV_ISSUER_BASE}/{kind}/v2.0"


def load_or_create_key(path: Path) -> rsa.RSAPrivateKey:
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        create_once(path, pem)
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise ValueError(f"{path} does not hold an RSA private key")
    return loaded


def key_id(key: rsa.RSAPrivateKey) -> str:
    """RFC 7638 thumbprint of the public key."""
    numbers = key.public_key().public_numbers()
    members = {"e": _b64(numbers.e), "kty": "RSA", "n": _b64(numbers.n)}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


def dev_issuers(settings: Settings) -> list[Issuer]:
    key = load_or_create_key(settings.dev_issuer_key_path)
    keys = StaticKeys({key_id(key): key.public_key()})
    return [
        Issuer(
            dev_issuer_url("staff"),
            settings.staff_audience,
            settings.staff_tenant_id,
            "staff",
            keys,
        ),
        Issuer(
            dev_issuer_url("family"),
            settings.family_audience,
            settings.family_tenant_id,
            "family",
            keys,
        ),
    ]


def issue_token(
    settings: Settings,
    kind: PrincipalKind,
    claims: dict[str, Any],
    lifetime_seconds: int = 3600,
) -> str:
    import jwt

    key = load_or_create_key(settings.dev_issuer_key_path)
    now = int(time.time())
    staff = kind == "staff"
    payload = {
        "iss": dev_issuer_url(kind),
        "aud": settings.staff_audience if staff else settings.family_audience,
        "tid": settings.staff_tenant_id if staff else settings.family_tenant_id,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime_seconds,
        "ver": "2.0",
        "scp": DELEGATED_SCOPE,
        **claims,
    }
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": key_id(key)})


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
