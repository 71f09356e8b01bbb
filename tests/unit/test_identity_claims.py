"""Who a trusted token may name: a person (not an application), by GUIDs."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.errors import UnauthorizedError
from shared.identity import Issuer, StaticKeys, TokenValidator

ISSUER = "https://login.microsoftonline.com/6a1e0f4c-0000-4000-8000-0000000000aa/v2.0"
TENANT = "6a1e0f4c-0000-4000-8000-0000000000aa"
OID = "5d8e9a1c-0000-4000-8000-000000000001"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
VALIDATOR = TokenValidator(
    [Issuer(ISSUER, "api://staff", TENANT, "staff", StaticKeys({"k1": KEY.public_key()}))], 60
)


def token(**overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": "api://staff",
        "tid": TENANT,
        "oid": OID,
        "sub": "pairwise-subject-of-the-user",
        "scp": "access_as_user",
        "roles": ["SocialWorker"],
        "nbf": now,
        "exp": now + 600,
        **overrides,
    }
    payload = {k: v for k, v in claims.items() if v is not None}
    return "Bearer " + jwt.encode(payload, KEY, algorithm="RS256", headers={"kid": "k1"})


def test_a_person_signed_in_through_an_app_is_accepted() -> None:
    principal = VALIDATOR.authenticate(token(idtyp="user"))
    assert principal.object_id == OID
    assert principal.roles == frozenset({"SocialWorker"})


def test_an_upper_case_object_id_names_the_same_person() -> None:
    assert VALIDATOR.authenticate(token(oid=OID.upper())).key == f"{TENANT}:{OID}"


@pytest.mark.parametrize(
    "oid",
    [
        "not-a-guid",
        "staff/../../secret",
        "a#b?c",
        "\u00e9" * 36,
        "",
        " " + OID,
        "{" + OID + "}",
        "urn:uuid:" + OID,
        OID.replace("-", ""),
        12345,
        ["5d8e9a1c-0000-4000-8000-000000000001"],
    ],
)
def test_an_object_id_that_is_not_a_guid_is_401(oid: Any) -> None:
    with pytest.raises(UnauthorizedError):
        VALIDATOR.authenticate(token(oid=oid))


@pytest.mark.parametrize(
    "overrides",
    [
        {"idtyp": "app"},
        {"idtyp": "app", "scp": "access_as_user"},
        {"scp": None, "sub": OID},
        {"scp": None},
        {"scp": ""},
        {"scp": ["access_as_user"]},
    ],
    ids=["idtyp app", "idtyp app with scp", "client credentials", "no scp", "empty scp", "list"],
)
def test_an_app_only_token_with_roles_is_401(overrides: dict[str, Any]) -> None:
    """Entra gives an application acting as itself ``roles`` and no ``scp`` (``idtyp: app``
    when that optional claim is on); no endpoint serves applications, so none is a person."""
    with pytest.raises(UnauthorizedError, match="person"):
        VALIDATOR.authenticate(token(**overrides))


@pytest.mark.parametrize(
    "roles",
    [5, "SocialWorker", [["SocialWorker"]], [{"role": "SocialWorker"}], {"SocialWorker": True}],
    ids=["a number", "a string", "a nested list", "a list of objects", "an object"],
)
def test_roles_that_are_not_a_list_of_strings_are_401(roles: Any) -> None:
    with pytest.raises(UnauthorizedError, match="roles"):
        VALIDATOR.authenticate(token(roles=roles))


def test_roles_the_app_does_not_define_are_ignored() -> None:
    principal = VALIDATOR.authenticate(token(roles=["Owner", "SocialWorker", "Partner"]))
    assert principal.roles == frozenset({"SocialWorker"})
