"""Bearer-token validation: who is calling.

Tokens are Entra ID JWTs: staff from the borough's workforce tenant (with app roles), partner
agencies' professionals from the same tenant, as its guests, with the ``Partner`` role alone, and
family members from its Entra External ID tenant. Only RS256 is accepted; the signing key comes
from the issuer's JWKS (cached, refetched when an unknown ``kid`` appears); ``iss`` must match
exactly, ``aud`` must be the configured audience, ``exp``/``nbf`` hold within a small leeway and
``tid`` must be the configured tenant. ``oid`` must be a GUID (it keys the caller's records), and
the token must be a person's: a delegated token with ``scp``, never an application's own token
(client credentials: ``roles`` without ``scp``, ``idtyp: app``), since no endpoint serves one.
A development issuer exists only when a local-only setting enables it; its key lives in a
git-ignored file (see ``shared.dev_issuer``).

Contact claims. A family token's ``phone_number`` or ``email`` is trusted (to redeem an
invitation) only when its companion ``phone_number_verified`` / ``email_verified`` claim is the
JSON value ``true``; absent, ``"true"``, ``1`` or anything else means "not verified". Entra ID,
External ID included, issues neither companion claim itself: its ``email`` claim is documented as
unverified and mutable, never for authorisation, and its one verification signal, the optional
``xms_edov`` claim, says the email's *domain owner* is verified, not that this user controls the
mailbox, so it is not trusted either. A borough's external tenant adds the two claims with a
custom claims provider (a token issuance start custom authentication extension) that sets them
to ``true`` only for the phone number or email the user proved with a one-time passcode; without
one, invitations cannot be redeemed (closed, not open). The development issuer
(``local.token``) sets them as that provider would.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from shared.errors import UnauthorizedError
from shared.grants import PARTNER_ROLE
from shared.ids import canonical_id

if TYPE_CHECKING:
    from shared.settings import Settings

PrincipalKind = Literal["staff", "family", "partner"]
STAFF_ROLES = frozenset({"SocialWorker", "TeamManager", "HeadOfService", "Admin"})
WORKFORCE_ROLES = STAFF_ROLES | {PARTNER_ROLE}
ALGORITHM = "RS256"
MAX_TOKEN_LENGTH = 16_384


@dataclass(frozen=True)
class Principal:
    tenant_id: str
    object_id: str
    name: str
    kind: PrincipalKind
    roles: frozenset[str] = frozenset()
    phone: str | None = None
    email: str | None = None

    @property
    def key(self) -> str:
        """The caller's identity across tenants: ``tid`` and ``oid``, never a name or email."""
        return f"{self.tenant_id}:{self.object_id}"

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


class SigningKeys(Protocol):
    def key_for(self, kid: str) -> Any: ...


class RemoteJwks:
    """An issuer's published JWKS, cached; an unknown ``kid`` triggers a refetch.

    Refetches are at most one per ``cooldown_seconds``, so a flood of tokens with invented
    ``kid`` values cannot make the app hammer the issuer.
    """

    def __init__(self, uri: str, cache_seconds: int, cooldown_seconds: float = 30) -> None:
        import jwt

        self._client = jwt.PyJWKClient(
            uri,
            cache_keys=True,
            lifespan=cache_seconds,
            timeout=5,
            cooldown_duration=cooldown_seconds,
        )

    def key_for(self, kid: str) -> Any:
        import jwt

        try:
            return self._client.get_signing_key(kid).key
        except jwt.PyJWKClientConnectionError as error:
            raise UnauthorizedError("The token's signing keys could not be fetched.") from error
        except jwt.PyJWKClientError as error:
            raise UnauthorizedError("The token's signing key is unknown.") from error


class StaticKeys:
    """A fixed set of public keys by ``kid`` (the development issuer, tests)."""

    def __init__(self, keys: Mapping[str, Any]) -> None:
        self._keys = dict(keys)

    def key_for(self, kid: str) -> Any:
        try:
            return self._keys[kid]
        except KeyError:
            raise UnauthorizedError("The token's signing key is unknown.") from None


@dataclass(frozen=True)
class Issuer:
    issuer: str
    audience: str
    tenant_id: str
    kind: PrincipalKind
    keys: SigningKeys


def staff_issuer_url(tenant_id: str) -> str:
    return f"https://login.microsoftonline.com/{tenant_id}/v2.0"


def family_issuer_url(tenant_id: str) -> str:
    return f"https://{tenant_id}.ciamlogin.com/{tenant_id}/v2.0"


def entra_issuers(settings: Settings) -> list[Issuer]:
    issuers: list[Issuer] = []
    if settings.staff_tenant_id and settings.staff_audience:
        url = staff_issuer_url(settings.staff_tenant_id)
        issuers.append(
            Issuer(
                issuer=url,
                audience=settings.staff_audience,
                tenant_id=settings.staff_tenant_id,
                kind="staff",
                keys=RemoteJwks(
                    f"https://login.microsoftonline.com/{settings.staff_tenant_id}"
                    "/discovery/v2.0/keys",
                    settings.jwks_cache_seconds,
                ),
            )
        )
    if settings.family_tenant_id and settings.family_audience:
        tid = settings.family_tenant_id
        issuers.append(
            Issuer(
                issuer=family_issuer_url(tid),
                audience=settings.family_audience,
                tenant_id=tid,
                kind="family",
                keys=RemoteJwks(
                    f"https://{tid}.ciamlogin.com/{tid}/discovery/v2.0/keys",
                    settings.jwks_cache_seconds,
                ),
            )
        )
    return issuers


class TokenValidator:
    def __init__(self, issuers: list[Issuer], leeway_seconds: int) -> None:
        self._issuers = {issuer.issuer: issuer for issuer in issuers}
        self._leeway = leeway_seconds

    def authenticate(self, authorization: str | None) -> Principal:
        import jwt

        token = _bearer_token(authorization)
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError as error:
            raise UnauthorizedError("The bearer token is malformed.") from error
        if header.get("alg") != ALGORITHM:
            raise UnauthorizedError("The bearer token must be signed with RS256.")
        kid = header.get("kid")
        issuer = self._issuers.get(str(unverified.get("iss")))
        if not isinstance(kid, str) or issuer is None:
            raise UnauthorizedError("The bearer token is not from a trusted issuer.")
        try:
            claims = jwt.decode(
                token,
                key=issuer.keys.key_for(kid),
                algorithms=[ALGORITHM],
                audience=issuer.audience,
                issuer=issuer.issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iss", "aud", "tid", "oid"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise UnauthorizedError("The bearer token has expired.") from error
        except jwt.InvalidTokenError as error:
            raise UnauthorizedError("The bearer token is invalid.") from error
        if claims.get("tid") != issuer.tenant_id:
            raise UnauthorizedError("The bearer token is for another tenant.")
        return _principal(issuer.kind, claims)


def _bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise UnauthorizedError("A bearer token is required.")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH:
        raise UnauthorizedError("A bearer token is required.")
    return token


def _principal(kind: PrincipalKind, claims: Mapping[str, Any]) -> Principal:
    oid = claims["oid"]
    object_id = canonical_id(oid.lower()) if isinstance(oid, str) else None
    if object_id is None:
        raise UnauthorizedError("The bearer token's object id is not a GUID.")
    if not _signed_in_person(claims):
        raise UnauthorizedError("The bearer token is an application's, not a signed-in person's.")
    roles = claims.get("roles") or []
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise UnauthorizedError("The bearer token's roles are not a list of names.")
    kind, known = _kind_and_roles(kind, frozenset(roles))
    return Principal(
        tenant_id=str(claims["tid"]),
        object_id=object_id,
        name=str(claims.get("name") or ""),
        kind=kind,
        roles=known,
        phone=_verified(claims, "phone_number"),
        email=_verified(claims, "email"),
    )


def _kind_and_roles(
    kind: PrincipalKind, roles: frozenset[str]
) -> tuple[PrincipalKind, frozenset[str]]:
    """Who a token's roles make the caller. Only the workforce tenant's tokens carry roles. A
    partner agency's guest has the ``Partner`` role and no staff role; a token with a staff role
    is a member of staff's, and ``Partner`` beside it adds nothing (a partner is never staff, and
    staff need no grant)."""
    if kind != "staff":
        return kind, frozenset()
    staff_roles = roles & STAFF_ROLES
    if PARTNER_ROLE in roles and not staff_roles:
        return "partner", frozenset({PARTNER_ROLE})
    return "staff", staff_roles


def _signed_in_person(claims: Mapping[str, Any]) -> bool:
    """Whether a person signed in: Entra gives delegated (user) tokens the scopes consented in
    ``scp``, and an application acting as itself (client credentials) ``roles`` without ``scp``,
    and ``idtyp: app`` when that optional claim is on. Every endpoint serves people."""
    scopes = claims.get("scp")
    return claims.get("idtyp") != "app" and isinstance(scopes, str) and bool(scopes.strip())


def _verified(claims: Mapping[str, Any], claim: str) -> str | None:
    """The contact claim, only when its ``<claim>_verified`` companion is exactly JSON ``true``."""
    value = claims.get(claim)
    if not isinstance(value, str) or claims.get(f"{claim}_verified") is not True:
        return None
    return value
