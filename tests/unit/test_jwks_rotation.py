"""The remote JWKS is cached, and a token with an unknown ``kid`` triggers one refetch."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from shared.errors import UnauthorizedError
from shared.identity import Issuer, RemoteJwks, TokenValidator

ISSUER = "https://login.microsoftonline.com/t1/v2.0"
OID = "0b1ec7a1-0000-4000-8000-000000000001"


class JwksServer:
    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}
        self.fetches = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.fetches += 1
                body = json.dumps(
                    {
                        "keys": [
                            {
                                **json.loads(RSAAlgorithm.to_jwk(key.public_key())),
                                "kid": kid,
                                "use": "sig",
                                "alg": "RS256",
                            }
                            for kid, key in server.keys.items()
                        ]
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/keys"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def jwks() -> Iterator[JwksServer]:
    server = JwksServer()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def token(key: Any, kid: str) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": "api://a",
        "tid": "t1",
        "oid": OID,
        "scp": "s",
        "exp": now + 300,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def test_keys_are_cached_and_a_rotated_key_is_fetched_once(jwks: JwksServer) -> None:
    first = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    second = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks.keys = {"k1": first}
    keys = RemoteJwks(jwks.url, cache_seconds=3600, cooldown_seconds=0)
    validator = TokenValidator([Issuer(ISSUER, "api://a", "t1", "staff", keys)], 60)

    for _ in range(3):
        validator.authenticate(f"Bearer {token(first, 'k1')}")
    assert jwks.fetches == 1

    jwks.keys = {"k1": first, "k2": second}
    assert validator.authenticate(f"Bearer {token(second, 'k2')}").object_id == OID
    assert jwks.fetches == 2


def test_unknown_kids_within_the_cooldown_do_not_refetch(jwks: JwksServer) -> None:
    jwks.keys = {"k1": rsa.generate_private_key(public_exponent=65537, key_size=2048)}
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keys = RemoteJwks(jwks.url, cache_seconds=3600, cooldown_seconds=60)
    validator = TokenValidator([Issuer(ISSUER, "api://a", "t1", "staff", keys)], 60)
    for attempt in range(5):
        with pytest.raises(UnauthorizedError):
            validator.authenticate(f"Bearer {token(stranger, f'invented-{attempt}')}")
    assert jwks.fetches <= 2


def test_a_kid_the_issuer_never_published_is_rejected(jwks: JwksServer) -> None:
    jwks.keys = {"k1": rsa.generate_private_key(public_exponent=65537, key_size=2048)}
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    validator = TokenValidator(
        [Issuer(ISSUER, "api://a", "t1", "staff", RemoteJwks(jwks.url, cache_seconds=3600))], 60
    )
    with pytest.raises(UnauthorizedError, match="signing key"):
        validator.authenticate(f"Bearer {token(stranger, 'k9')}")


def test_an_unreachable_jwks_endpoint_is_a_401_not_a_crash() -> None:
    validator = TokenValidator(
        [Issuer(ISSUER, "api://a", "t1", "staff", RemoteJwks("http://127.0.0.1:9/keys", 3600))], 60
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(UnauthorizedError):
        validator.authenticate(f"Bearer {token(key, 'k1')}")
