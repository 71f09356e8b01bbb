"""The web app served locally, as the static host serves it in Azure, on its own origin (4280).

- the built app (``clients/web/dist``), with the single-page fallback to ``index.html`` for any
  path that names no file; ``index.html``, the service worker and the manifest are never cached
  (``no-cache``), the hashed assets under ``assets/`` for a year;
- ``/config.json``: the app's runtime configuration, local values (in Azure the deployment
  writes it);
- ``POST /dev/token``: a token of the local development issuer for the sign-in screen, only
  while ``AUTH_DEV_ISSUER_ENABLED`` is true and only for a request from this machine (loopback);
  otherwise 404, as if there were no such path.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
NEVER_CACHED = {"index.html", "sw.js", "manifest.webmanifest", "config.json"}
MAX_BODY = 4096
PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class WebSettings:
    api_base_url: str
    dev_issuer_enabled: bool
    dist: Path = DIST
    max_offline_days: int = MAX_OFFLINE_DAYS

    def config(self) -> dict[str, Any]:
        """``/config.json`` as the app reads it (the local shape of the deployment's)."""
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
        return JSONResponse(web.config(), headers={"Cache-Control": "no-cache"})

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
        relative = request.path_params["path"].strip("/")
        target = (root / relative).resolve() if relative else index
        if not target.is_relative_to(root):
            return problem(404, "Not found", "Nothing is served at this path.")
        if not target.is_file():
            if "." in relative.rsplit("/", 1)[-1]:
                return problem(404, "Not found", "Nothing is served at this path.")
            target = index  # a route of the single-page app
        if target.name in NEVER_CACHED:
            cache = "no-cache"
        elif target.parent.name == "assets":
            cache = "public, max-age=31536000, immutable"
        else:
            cache = "public, max-age=3600"
        media_type = "application/manifest+json" if target.suffix == ".webmanifest" else None
        return FileResponse(target, headers={"Cache-Control": cache}, media_type=media_type)

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
