"""The web app served locally, as the static host serves it in Azure, on its own origin (4280).

- the built app (``clients/web/dist``) under the rules the Static Web App follows in Azure, read
  from the same ``staticwebapp.config.json`` the build ships (``HostRules``): the navigation
  fallback to ``index.html`` for a path that names no file and is not excluded, each route's
  headers and status, the MIME types, and the global headers, whose Content-Security-Policy is
  narrowed to the local API and Azurite as the deployment narrows it to the borough's (so a
  page that breaks the policy in Azure breaks it here too);
- ``/config.json``: the app's runtime configuration, local values (in Azure the deployment
  writes it); a build the deployment hook has configured (``infra/hooks/web-config.sh``, which
  writes ``config.json`` into it and narrows its policy) is served with its own, as in Azure;
- ``POST /dev/token``: a token of the local development issuer for the sign-in screen, only
  while ``AUTH_DEV_ISSUER_ENABLED`` is true and only for a request from this machine (loopback);
  otherwise 404, as if there were no such path.
"""

from __future__ import annotations

import asyncio
import fnmatch
import ipaddress
import json
import logging
import re
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from local.config import ROOT

log = logging.getLogger("familystory.web")

WEB_PORT = 4280
DIST = ROOT / "clients" / "web" / "dist"
MAX_OFFLINE_DAYS = 14
TOKEN_MINUTES = 60
MAX_TOKEN_MINUTES = 24 * 60
MAX_BODY = 4096
PROBLEM = "application/problem+json"
HOST_CONFIG = "staticwebapp.config.json"
# The Content-Security-Policy names every origin of its kind (the build cannot know the
# borough's); the deployment narrows each to the borough's own, and the local host to its own.
API_WILDCARD = "https://*.azurewebsites.net"
MEDIA_WILDCARD = "https://*.blob.core.windows.net"


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def expand_braces(pattern: str) -> list[str]:
    """``/*.{png,svg}`` as ``/*.png`` and ``/*.svg`` (the static host's filters allow braces)."""
    found = re.search(r"\{([^{}]*)\}", pattern)
    if found is None:
        return [pattern]
    head, tail = pattern[: found.start()], pattern[found.end() :]
    return [x for choice in found.group(1).split(",") for x in expand_braces(head + choice + tail)]


def matches(pattern: str, path: str) -> bool:
    """A route or filter of the static host: case-insensitive, ``*`` for any rest of the path."""
    return any(fnmatch.fnmatchcase(path.lower(), p.lower()) for p in expand_braces(pattern))


@dataclass(frozen=True)
class HostRoute:
    pattern: str
    headers: dict[str, str]
    status: int | None


@dataclass(frozen=True)
class HostRules:
    """What the Static Web App does by the app's ``staticwebapp.config.json``."""

    routes: tuple[HostRoute, ...] = ()
    fallback: str | None = None
    exclude: tuple[str, ...] = ()
    global_headers: dict[str, str] = field(default_factory=dict)
    mime_types: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, api_origin: str, media_origin: str) -> HostRules:
        """The rules of ``path``, with the policy's wildcards narrowed to the local origins and
        ``upgrade-insecure-requests`` left out (the local origins are plain HTTP)."""
        if not path.is_file():
            return cls()
        document = json.loads(path.read_text(encoding="utf-8"))
        fallback = document.get("navigationFallback") or {}
        headers = {k.lower(): v for k, v in (document.get("globalHeaders") or {}).items()}
        policy = headers.get("content-security-policy")
        if policy:
            policy = policy.replace(API_WILDCARD, api_origin).replace(MEDIA_WILDCARD, media_origin)
            directives = [d.strip() for d in policy.split(";")]
            kept = [d for d in directives if d and d != "upgrade-insecure-requests"]
            headers["content-security-policy"] = "; ".join(kept)
        return cls(
            routes=tuple(
                HostRoute(
                    route["route"],
                    {k.lower(): v for k, v in (route.get("headers") or {}).items()},
                    route.get("statusCode"),
                )
                for route in document.get("routes") or []
            ),
            fallback=fallback.get("rewrite"),
            exclude=tuple(fallback.get("exclude") or ()),
            global_headers=headers,
            mime_types={k.lower(): v for k, v in (document.get("mimeTypes") or {}).items()},
        )

    def route(self, path: str) -> HostRoute | None:
        """The first route that matches, as the static host takes it."""
        return next((r for r in self.routes if matches(r.pattern, path)), None)

    def headers(self, path: str) -> dict[str, str]:
        """The global headers, with the matching route's own over them."""
        found = self.route(path)
        return {**self.global_headers, **(found.headers if found else {})}

    def falls_back(self, path: str) -> bool:
        return self.fallback is not None and not any(matches(x, path) for x in self.exclude)

    def media_type(self, target: Path) -> str | None:
        return self.mime_types.get(target.suffix.lower())


@dataclass(frozen=True)
class WebSettings:
    api_base_url: str
    dev_issuer_enabled: bool
    dist: Path = DIST
    max_offline_days: int = MAX_OFFLINE_DAYS
    media_origin: str = "http://127.0.0.1:10000"

    def rules(self) -> HostRules:
        """Read at each request, so a new build's rules apply without a restart."""
        return HostRules.load(
            self.dist / HOST_CONFIG, origin(self.api_base_url), origin(self.media_origin)
        )

    def config(self) -> dict[str, Any]:
        """``/config.json`` as the app reads it: the build's own if the deployment hook wrote
        one into it, otherwise the local shape of the deployment's."""
        written = self.dist / "config.json"
        if written.is_file():
            deployed: dict[str, Any] = json.loads(written.read_text(encoding="utf-8"))
            return deployed
        document: dict[str, Any] = {
            "apiBaseUrl": self.api_base_url,
            "signIn": "dev" if self.dev_issuer_enabled else "none",
            "maxOfflineDays": self.max_offline_days,
        }
        if self.dev_issuer_enabled:
            document["devTokenUrl"] = "/dev/token"
        return document


def problem(status: int, title: str, detail: str) -> Response:
    body = {
        "type": f"urn:familystory:problem:{'bad-request' if status == 400 else 'not-found'}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    return JSONResponse(body, status, media_type=PROBLEM, headers={"Cache-Control": "no-store"})


def is_loopback(request: Request) -> bool:
    if request.client is None:
        return False
    try:
        return ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False


class TokenRequestError(ValueError):
    pass


def token_request(body: object) -> tuple[str, dict[str, Any], int]:
    """The kind, claims and lifetime (minutes) asked for, checked as ``local.token`` checks them."""
    from local.token import dev_claims
    from shared.identity import WORKFORCE_ROLES

    if not isinstance(body, dict):
        raise TokenRequestError("The body must be a JSON object.")
    kind = body.get("kind")
    if kind not in ("staff", "family"):
        raise TokenRequestError("kind must be 'staff' or 'family'.")
    try:
        oid = str(uuid.UUID(str(body.get("oid"))))
    except ValueError:
        raise TokenRequestError("oid must be a UUID.") from None
    roles = body.get("roles", [])
    if kind == "staff":
        if (
            not isinstance(roles, list)
            or not roles
            or not all(isinstance(r, str) and r in WORKFORCE_ROLES for r in roles)
        ):
            raise TokenRequestError(f"roles must be some of {', '.join(sorted(WORKFORCE_ROLES))}.")
    elif roles:
        raise TokenRequestError("A family member's token has no roles.")
    texts = {}
    for name in ("name", "phone", "email"):
        value = body.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > 200):
            raise TokenRequestError(f"{name} must be a string of at most 200 characters.")
        texts[name] = value or None
    if kind == "staff" and (texts["phone"] or texts["email"]):
        raise TokenRequestError("phone and email are a family member's claims.")
    minutes = body.get("minutes", TOKEN_MINUTES)
    if (
        not isinstance(minutes, int)
        or isinstance(minutes, bool)
        or not (1 <= minutes <= MAX_TOKEN_MINUTES)
    ):
        raise TokenRequestError(f"minutes must be a whole number from 1 to {MAX_TOKEN_MINUTES}.")
    claims = dev_claims(kind, oid, roles, texts["name"], texts["phone"], texts["email"])
    return kind, claims, minutes


def build_web_app(web: WebSettings) -> Starlette:
    async def config(request: Request) -> Response:
        return JSONResponse(web.config(), headers=web.rules().headers("/config.json"))

    async def dev_token(request: Request) -> Response:
        if not web.dev_issuer_enabled or not is_loopback(request):
            return problem(404, "Not found", "Nothing is served at this path.")
        body = await request.body()
        if len(body) > MAX_BODY:
            return problem(400, "Bad request", "The body is too large.")
        try:
            kind, claims, minutes = token_request(json.loads(body or b"null"))
        except (ValueError, UnicodeDecodeError) as error:
            detail = str(error) if isinstance(error, TokenRequestError) else "Not JSON."
            return problem(400, "Bad request", detail)
        from shared.dev_issuer import issue_token
        from shared.settings import get_settings

        token = issue_token(get_settings(), kind, claims, lifetime_seconds=minutes * 60)  # type: ignore[arg-type]
        return JSONResponse(
            {"token": token, "expiresIn": minutes * 60, "oid": claims["oid"]},
            headers={"Cache-Control": "no-store"},
        )

    async def static(request: Request) -> Response:
        root = web.dist.resolve()
        index = root / "index.html"
        if not index.is_file():
            return Response(
                "The web app is not built: make run builds it (npm run build -w clients/web).",
                503,
                media_type="text/plain",
            )
        rules = web.rules()
        path = "/" + request.path_params["path"].strip("/")
        route = rules.route(path)
        if route is not None and route.status is not None:
            return problem(route.status, "Not found", "Nothing is served at this path.")
        target = (root / path.lstrip("/")).resolve() if path != "/" else index
        if not target.is_relative_to(root) or target.name == HOST_CONFIG:
            return problem(404, "Not found", "Nothing is served at this path.")
        if not target.is_file():
            if path != "/" and not rules.falls_back(path):
                return problem(404, "Not found", "Nothing is served at this path.")
            target = index  # a route of the single-page app
        served = "/" + target.relative_to(root).as_posix()
        return FileResponse(
            target, headers=rules.headers(served), media_type=rules.media_type(target)
        )

    return Starlette(
        routes=[
            Route("/config.json", config, methods=["GET", "HEAD"]),
            Route("/dev/token", dev_token, methods=["POST"]),
            Route("/{path:path}", static, methods=["GET", "HEAD"]),
        ]
    )


class WebServer:
    """The web app's server on a thread of its own, beside the host (which owns the signals)."""

    def __init__(self, app: Starlette, port: int, host: str = "127.0.0.1") -> None:
        import uvicorn

        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, name="web", daemon=True)

    def _run(self) -> None:
        asyncio.run(self.server.serve())

    def start(self, timeout: float = 10) -> WebServer:
        self.thread.start()
        waited = 0.0
        while not self.server.started and self.thread.is_alive() and waited < timeout:
            threading.Event().wait(0.05)
            waited += 0.05
        if not self.server.started:
            raise RuntimeError("the web app's server did not start")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
