from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.errors import UnauthorizedError
from shared.identity import Issuer, StaticKeys, TokenValidator

STAFF_ISSUER = "https://login.microsoftonline.com/tenant-staff/v2.0"
FAMILY_ISSUER = "https://tenant-family.ciamlogin.com/tenant-family/v2.0"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def validator() -> TokenValidator:
    keys = StaticKeys({"k1": KEY.public_key()})
    return TokenValidator(
        [
            Issuer(STAFF_ISSUER, "api://staff", "tenant-staff", "staff", keys),
            Issuer(FAMILY_ISSUER, "api://family", "tenant-family", "family", keys),
        ],
        leeway_seconds=60,
    )


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": STAFF_ISSUER,
        "aud": "api://staff",
        "tid": "tenant-staff",
        "oid": "5d8e9a1c-0000-4000-8000-000000000001",
        "name": "Sam Patel",
        "scp": "access_as_user",
        "roles": ["SocialWorker", "Owner"],
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(payload: dict[str, Any], key: Any = KEY, kid: str = "k1", alg: str = "RS256") -> str:
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_valid_staff_token_yields_principal_with_known_roles_only(
    validator: TokenValidator,
) -> None:
    principal = validator.authenticate(f"Bearer {sign(claims())}")
    assert principal.kind == "staff"
    assert principal.object_id == "5d8e9a1c-0000-4000-8000-000000000001"
    assert principal.tenant_id == "tenant-staff"
    assert principal.roles == frozenset({"SocialWorker"})
    assert principal.key == "tenant-staff:5d8e9a1c-0000-4000-8000-000000000001"


@pytest.mark.parametrize(
    ("roles", "kind", "kept"),
    [
        (["Partner"], "partner", {"Partner"}),
        (["Partner", "Owner"], "partner", {"Partner"}),
        (["Partner", "SocialWorker"], "staff", {"SocialWorker"}),
        (["Partner", "Admin"], "staff", {"Admin"}),
        ([], "staff", set()),
        (None, "staff", set()),
    ],
)
def test_a_workforce_guest_with_the_partner_role_alone_is_a_partner(
    validator: TokenValidator, roles: list[str] | None, kind: str, kept: set[str]
) -> None:
    principal = validator.authenticate(f"Bearer {sign(claims(roles=roles))}")
    assert principal.kind == kind
    assert principal.roles == frozenset(kept)


def test_a_family_token_claiming_the_partner_role_is_a_family_member(
    validator: TokenValidator,
) -> None:
    token = sign(claims(iss=FAMILY_ISSUER, aud="api://family", tid="tenant-family",
                        roles=["Partner"]))  # fmt: skip
    principal = validator.authenticate(f"Bearer {token}")
    assert principal.kind == "family"
    assert principal.roles == frozenset()


def test_valid_family_token_yields_family_principal_with_verified_contacts(
    validator: TokenValidator,
) -> None:
    token = sign(
        claims(
            iss=FAMILY_ISSUER,
            aud="api://family",
            tid="tenant-family",
            roles=["HeadOfService"],
            phone_number="+447700900123",
            phone_number_verified=True,
            email="a@example.org",
            email_verified=False,
        )
    )
    principal = validator.authenticate(f"Bearer {token}")
    assert principal.kind == "family"
    assert principal.roles == frozenset()
    assert principal.phone == "+447700900123"
    assert principal.email is None


@pytest.mark.parametrize(
    "verified",
    [None, "true", "True", 1, [True], {"value": True}, False],
    ids=["absent", "string true", "string True", "one", "list", "object", "false"],
)
def test_a_contact_counts_only_with_a_verified_claim_of_exactly_json_true(
    validator: TokenValidator, verified: Any
) -> None:
    token = sign(
        claims(
            iss=FAMILY_ISSUER,
            aud="api://family",
            tid="tenant-family",
            phone_number="+447700900123",
            phone_number_verified=verified,
            email="a@example.org",
            email_verified=verified,
        )
    )
    principal = validator.authenticate(f"Bearer {token}")
    assert principal.phone is None
    assert principal.email is None


def test_alg_none_is_rejected(validator: TokenValidator) -> None:
    header = b64(json.dumps({"alg": "none", "typ": "JWT", "kid": "k1"}).encode())
    body = b64(json.dumps(claims()).encode())
    with pytest.raises(UnauthorizedError):
        validator.authenticate(f"Bearer {header}.{body}.")


def test_hs256_signed_with_the_public_key_is_rejected(validator: TokenValidator) -> None:
    public_pem = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode())
    body = b64(json.dumps(claims()).encode())
    import hashlib
    import hmac

    signature = b64(hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest())
    with pytest.raises(UnauthorizedError, match="RS256"):
        validator.authenticate(f"Bearer {header}.{body}.{signature}")


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"aud": "api://someone-else"}, "wrong audience"),
        ({"iss": "https://login.microsoftonline.com/other/v2.0"}, "unknown issuer"),
        ({"iss": STAFF_ISSUER + "/"}, "issuer not exactly equal"),
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"nbf": int(time.time()) + 3600}, "not yet valid"),
        ({"tid": "another-tenant"}, "other tenant"),
        ({"exp": None}, "no expiry"),
        ({"oid": None}, "no object id"),
        ({"aud": "api://family"}, "family audience on staff issuer"),
    ],
)
def test_token_with_bad_claims_is_rejected(
    validator: TokenValidator, overrides: dict[str, Any], reason: str
) -> None:
    with pytest.raises(UnauthorizedError):
        validator.authenticate(f"Bearer {sign(claims(**overrides))}")


def test_expiry_within_leeway_is_accepted(validator: TokenValidator) -> None:
    token = sign(claims(exp=int(time.time()) - 30))
    assert validator.authenticate(f"Bearer {token}").name == "Sam Patel"


def test_unknown_kid_is_rejected(validator: TokenValidator) -> None:
    with pytest.raises(UnauthorizedError, match="signing key"):
        validator.authenticate(f"Bearer {sign(claims(), OTHER_KEY, kid='k2')}")


def test_signature_by_another_key_under_a_known_kid_is_rejected(validator: TokenValidator) -> None:
    with pytest.raises(UnauthorizedError):
        validator.authenticate(f"Bearer {sign(claims(), OTHER_KEY, kid='k1')}")


def test_tampered_payload_is_rejected(validator: TokenValidator) -> None:
    header, _, signature = sign(claims()).split(".")
    forged = b64(json.dumps(claims(roles=["HeadOfService"])).encode())
    with pytest.raises(UnauthorizedError):
        validator.authenticate(f"Bearer {header}.{forged}.{signature}")


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "bearer not-a-jwt", "Bearer a.b"],
)
def test_missing_or_malformed_authorization_is_rejected(
    validator: TokenValidator, authorization: str | None
) -> None:
    with pytest.raises(UnauthorizedError):
        validator.authenticate(authorization)


def test_oversized_token_is_rejected_before_parsing(validator: TokenValidator) -> None:
    with pytest.raises(UnauthorizedError):
        validator.authenticate("Bearer " + "a" * 20_000)
