"""CORS as App Service answers it for a function app, configured as Core Tools configures it.

In Azure the platform answers CORS before the app sees a request (``siteConfig.cors``:
``allowedOrigins``, ``supportCredentials``); locally Core Tools reads the same two settings from
``local.settings.json``: ``Host.CORS`` (origins, comma-separated, or ``*``) and
``Host.CORSCredentials``. What the platform does, and so what this does:

- a request without ``Origin`` passes untouched;
- a preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) is answered
  here, 204, without reaching a function: for an allowed origin with that origin (or ``*`` when
  every origin is allowed and credentials are not), the requested method and the requested
  headers echoed, ``Access-Control-Allow-Credentials: true`` only when credentials are
  supported; for another origin, no CORS header at all (the browser then refuses);
- any other request from an allowed origin gets ``Access-Control-Allow-Origin`` (and the
  credentials header when supported) on its response; from another origin, none;
- the platform exposes no response header beyond the CORS-safelisted ones (it has no setting
  for ``Access-Control-Expose-Headers``), so neither does this;
- the app's own ``Access-Control-*`` headers are replaced by the platform's answer;
- ``*`` with credentials is refused, as Azure refuses that configuration.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALLOW_ORIGIN = "access-control-allow-origin"
ALLOW_CREDENTIALS = "access-control-allow-credentials"


class CorsConfigurationError(ValueError):
    """A CORS setting Azure would refuse."""


def normalise_origin(origin: str) -> str:
    """``scheme://host[:port]`` in lower case, without a trailing slash; Azure compares origins
    case-insensitively."""
    value = origin.strip().rstrip("/").lower()
    if value == "*":
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
        raise CorsConfigurationError(f"{origin!r} is not an origin (scheme://host[:port])")
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class CorsPolicy:
    origins: frozenset[str] = frozenset()
    credentials: bool = False

    def __post_init__(self) -> None:
        if "*" in self.origins and self.credentials:
            raise CorsConfigurationError(
                "Host.CORSCredentials cannot be true while Host.CORS allows every origin (*)"
            )

    @classmethod
    def of(cls, origins: Iterable[str], credentials: bool = False) -> CorsPolicy:
        return cls(frozenset(normalise_origin(o) for o in origins if o.strip()), credentials)

    @classmethod
    def from_host_section(cls, host: dict[str, Any]) -> CorsPolicy:
        """The ``Host`` section of ``local.settings.json``."""
        origins = str(host.get("CORS") or "").split(",")
        credentials = host.get("CORSCredentials", False)
        if isinstance(credentials, str):
            credentials = credentials.strip().lower() == "true"
        return cls.of(origins, bool(credentials))

    def with_origins(self, origins: Iterable[str]) -> CorsPolicy:
        return CorsPolicy.of([*self.origins, *origins], self.credentials)

    @property
    def any_origin(self) -> bool:
        return "*" in self.origins

    def allowed_origin(self, origin: str) -> str | None:
        """The value of ``Access-Control-Allow-Origin`` for ``origin``, or None if not allowed."""
        try:
            normalised = normalise_origin(origin)
        except CorsConfigurationError:
            return None
        if normalised == "*":
            return None
        if normalised in self.origins:
            return origin
        if self.any_origin:
            return "*"
        return None

    def grant(self, headers: MutableHeaders, origin: str) -> None:
        for name in [k for k in headers if k.lower().startswith("access-control-")]:
            del headers[name]
        allowed = self.allowed_origin(origin)
        if allowed is None:
            return
        headers[ALLOW_ORIGIN] = allowed
        if self.credentials:
            headers[ALLOW_CREDENTIALS] = "true"
        if allowed != "*":
            headers.add_vary_header("Origin")


def host_section(*paths: Path) -> dict[str, Any]:
    """The ``Host`` section of the first of ``paths`` that has one."""
    for path in paths:
        if path.exists():
            section = json.loads(path.read_text()).get("Host")
            if isinstance(section, dict):
                return section
    return {}


def local_cors_policy() -> CorsPolicy:
    """CORS from ``local.settings.json`` (or the example's, if the developer's copy has none)."""
    from local.config import EXAMPLE, LOCAL

    return CorsPolicy.from_host_section(host_section(LOCAL, EXAMPLE))


class CorsMiddleware:
    """Answers CORS in front of the host's app, as the platform does in front of a function app."""

    def __init__(self, app: ASGIApp, policy: CorsPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        requested_method = headers.get("access-control-request-method")
        if scope["method"] == "OPTIONS" and requested_method is not None:
            await self.preflight(origin, requested_method, headers)(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.policy.grant(MutableHeaders(scope=message), origin)
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def preflight(self, origin: str, method: str, request: Headers) -> Response:
        response = Response(status_code=204)
        if self.policy.allowed_origin(origin) is None:
            return response
        self.policy.grant(response.headers, origin)
        response.headers["access-control-allow-methods"] = method.strip()
        requested_headers = request.get("access-control-request-headers", "").strip()
        if requested_headers:
            response.headers["access-control-allow-headers"] = requested_headers
        return response
