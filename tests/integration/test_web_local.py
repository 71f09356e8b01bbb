"""The local stand-ins a browser meets: the host's CORS (as App Service answers it), the web
app's server (the built app, ``/config.json``, ``POST /dev/token``) and Azurite's blob CORS."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.storage.blob import BlobServiceClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from local.emulators import Emulators
from local.host.cors import CorsConfigurationError, CorsMiddleware, CorsPolicy
from local.run import allow_browser_uploads
from local.web import WebSettings, build_web_app
from tests.conftest import repo_root
from tests.integration.conftest import HostFactory, RunningHost

WEB = "http://localhost:4280"
ELSEWHERE = "https://evil.example"


@pytest.fixture(scope="module")
def sample_host(host_factory: HostFactory, tmp_path_factory: pytest.TempPathFactory) -> RunningHost:
    events = tmp_path_factory.mktemp("events") / "events.jsonl"
    return host_factory(
        "tests.integration.sample_app",
        SAMPLE_EVENTS_FILE=str(events),
        SAMPLE_SCHEDULE="0 0 0 1 1 *",
    )


def preflight(url: str, origin: str, method: str = "PUT", headers: str = "") -> httpx.Response:
    asked = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        asked["Access-Control-Request-Headers"] = headers
    return httpx.options(url, headers=asked)


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


class AsgiClient:
    """Requests to an ASGI app in this process, from the client address given."""

    def __init__(self, app: ASGIApp, client: tuple[str, int] = ("127.0.0.1", 50000)) -> None:
        self.transport = httpx.ASGITransport(app=app, client=client)

    def request(self, method: str, path: str, **options: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            async with httpx.AsyncClient(
                transport=self.transport, base_url="http://testserver"
            ) as client:
                return await client.request(method, path, **options)

        return asyncio.run(send())

    def get(self, path: str, **options: Any) -> httpx.Response:
        return self.request("GET", path, **options)

    def post(self, path: str, **options: Any) -> httpx.Response:
        return self.request("POST", path, **options)

    def options(self, path: str, **options: Any) -> httpx.Response:
        return self.request("OPTIONS", path, **options)


# The host, configured by Host.CORS of the local settings (the example allows the web app's origin)


def test_the_host_answers_a_preflight_from_an_allowed_origin_itself(
    sample_host: RunningHost,
) -> None:
    url = f"{sample_host.url}/api/v1/things/t-1/parts/1"
    response = preflight(url, WEB, "PUT", "authorization,content-type,if-match")
    assert response.status_code == 204
    assert cors_headers(response) == {
        "access-control-allow-origin": WEB,
        "access-control-allow-methods": "PUT",
        "access-control-allow-headers": "authorization,content-type,if-match",
    }
    assert "Origin" in response.headers["vary"]
    assert response.content == b""


def test_a_preflight_from_another_origin_gets_no_cors_header(sample_host: RunningHost) -> None:
    response = preflight(f"{sample_host.url}/api/v1/things/t-1/parts/1", ELSEWHERE)
    assert response.status_code == 204
    assert cors_headers(response) == {}


def test_responses_name_an_allowed_origin_and_expose_no_header(sample_host: RunningHost) -> None:
    url = f"{sample_host.url}/api/v1/things/t-1/parts/7"
    allowed = httpx.post(url, headers={"Origin": WEB}, content=b"{}")
    assert allowed.status_code == 201
    assert cors_headers(allowed) == {"access-control-allow-origin": WEB}
    other = httpx.post(url, headers={"Origin": ELSEWHERE}, content=b"{}")
    assert other.status_code == 201  # served, but the browser keeps it from the page
    assert cors_headers(other) == {}
    plain = httpx.post(url, content=b"{}")
    assert cors_headers(plain) == {}
    refused = httpx.get(f"{sample_host.url}/api/v1/nowhere", headers={"Origin": WEB})
    assert refused.status_code == 404
    assert cors_headers(refused) == {"access-control-allow-origin": WEB}


def test_an_options_request_that_is_no_preflight_reaches_the_host(
    sample_host: RunningHost,
) -> None:
    response = httpx.options(
        f"{sample_host.url}/api/v1/things/t-1/parts/1", headers={"Origin": WEB}
    )
    assert response.status_code == 405
    assert cors_headers(response) == {"access-control-allow-origin": WEB}


# The policy itself, in front of an app that sets its own CORS headers


def app_behind(policy: CorsPolicy) -> AsgiClient:
    async def answer(request: Request) -> Response:
        return JSONResponse(
            {"ok": True},
            headers={"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "ETag"},
        )

    inner = Starlette(routes=[Route("/x", answer, methods=["GET", "PUT", "OPTIONS"])])
    return AsgiClient(CorsMiddleware(inner, policy))


def test_credentials_are_allowed_only_when_configured_and_the_app_cannot_widen_cors() -> None:
    with_credentials = app_behind(CorsPolicy.of([WEB], credentials=True))
    response = with_credentials.get("/x", headers={"Origin": WEB})
    assert cors_headers(response) == {
        "access-control-allow-origin": WEB,
        "access-control-allow-credentials": "true",
    }
    without = app_behind(CorsPolicy.of([WEB]))
    response = without.get("/x", headers={"Origin": ELSEWHERE})
    assert cors_headers(response) == {}
    response = without.options(
        "/x", headers={"Origin": "HTTP://LOCALHOST:4280", "Access-Control-Request-Method": "GET"}
    )
    assert response.headers["access-control-allow-origin"] == "HTTP://LOCALHOST:4280"


def test_every_origin_means_a_star_and_never_with_credentials() -> None:
    star = app_behind(CorsPolicy.from_host_section({"CORS": "*"}))
    response = star.get("/x", headers={"Origin": ELSEWHERE})
    assert cors_headers(response) == {"access-control-allow-origin": "*"}
    with pytest.raises(CorsConfigurationError):
        CorsPolicy.from_host_section({"CORS": "*", "CORSCredentials": True})
    with pytest.raises(CorsConfigurationError):
        CorsPolicy.of(["localhost:4280"])
    assert CorsPolicy.from_host_section({}).origins == frozenset()


# Azurite's blob service lets the web app's origin PUT blocks to an upload URL


def test_azurite_lets_the_web_origin_put_blocks_and_no_other(emulators: Emulators) -> None:
    connection = emulators.settings()["MEDIA_STORAGE"]
    allow_browser_uploads(connection, CorsPolicy.of([WEB]))
    service = BlobServiceClient.from_connection_string(connection)
    url = f"{service.url.rstrip('/')}/media/some/blob?comp=block&blockid=AAAA"
    allowed = preflight(url, WEB, "PUT", "x-ms-blob-type,content-type")
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == WEB
    assert "PUT" in allowed.headers["access-control-allow-methods"]
    refused = preflight(url, ELSEWHERE, "PUT", "content-type")
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers
    # A header the account in Azure does not allow is refused here too.
    unlisted = preflight(url, WEB, "PUT", "x-ms-meta-owner,content-type")
    assert unlisted.status_code == 403
    assert "access-control-allow-origin" not in unlisted.headers


# The web app's server


HOST_CONFIG = repo_root() / "clients" / "web" / "public" / "staticwebapp.config.json"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A build: the app's files and the static host's rules the build copies from public/."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "icons").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>FamilyStory</title>")
    (tmp_path / "sw.js").write_text("self.addEventListener('fetch', () => {});")
    (tmp_path / "assets" / "app-1234.js").write_text("console.log(1)")
    (tmp_path / "icons" / "icon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "manifest.webmanifest").write_text("{}")
    shutil.copy(HOST_CONFIG, tmp_path / HOST_CONFIG.name)
    return tmp_path


def web_client(dist: Path, enabled: bool = True, host: str = "127.0.0.1") -> AsgiClient:
    settings = WebSettings(
        "http://localhost:7071/api/v1",
        dev_issuer_enabled=enabled,
        dist=dist,
        media_origin="http://127.0.0.1:10000/devstoreaccount1",
    )
    return AsgiClient(build_web_app(settings), client=(host, 50000))


def test_the_app_falls_back_to_index_and_caches_only_hashed_assets(dist: Path) -> None:
    client = web_client(dist)
    for path in ("/", "/families/123", "/index.html"):
        page = client.get(path)
        assert page.status_code == 200
        assert "<title>FamilyStory</title>" in page.text
        assert page.headers["cache-control"] == "no-cache"
    assert client.get("/sw.js").headers["cache-control"] == "no-cache"
    asset = client.get("/assets/app-1234.js")
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    manifest = client.get("/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    assert client.get("/icons/icon.svg").status_code == 200
    # Excluded from the fallback: a missing file is a 404, not the app.
    for missing in ("/assets/missing.js", "/icons/none.png", "/logo.png", "/data.json"):
        assert client.get(missing).status_code == 404, missing
    assert client.get("/..%2f..%2fetc/passwd").status_code == 404
    # The host's own sign-in pages are turned off; its rules file is not served.
    assert client.get("/.auth/login/aad").status_code == 404
    assert client.get("/staticwebapp.config.json").status_code == 404


def test_every_response_carries_the_static_hosts_headers_with_the_policy_narrowed(
    dist: Path,
) -> None:
    client = web_client(dist)
    for path in ("/", "/families/123", "/assets/app-1234.js", "/config.json", "/sw.js"):
        headers = client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["x-frame-options"] == "DENY", path
        assert headers["referrer-policy"] == "no-referrer", path
        policy = [d.strip() for d in headers["content-security-policy"].split(";")]
        assert "script-src 'self'" in policy, path
        assert "frame-ancestors 'none'" in policy, path
        # The deployment narrows the wildcards to the borough's API and media account; here,
        # to the local API and Azurite. Plain HTTP locally: no upgrade of requests.
        connect = next(d for d in policy if d.startswith("connect-src"))
        assert "http://localhost:7071" in connect.split()
        assert "http://127.0.0.1:10000" in connect.split()
        assert "*.azurewebsites.net" not in headers["content-security-policy"]
        assert "*.blob.core.windows.net" not in headers["content-security-policy"]
        assert "upgrade-insecure-requests" not in policy


def test_without_the_rules_file_only_the_index_is_served(dist: Path) -> None:
    (dist / HOST_CONFIG.name).unlink()
    client = web_client(dist)
    assert client.get("/").status_code == 200
    assert client.get("/families/123").status_code == 404


def test_config_json_names_the_api_and_the_local_sign_in(dist: Path) -> None:
    assert web_client(dist).get("/config.json").json() == {
        "apiBaseUrl": "http://localhost:7071/api/v1",
        "signIn": "dev",
        "devTokenUrl": "/dev/token",
        "maxOfflineDays": 14,
    }
    assert "devTokenUrl" not in web_client(dist, enabled=False).get("/config.json").json()


def test_a_build_the_deployment_hook_configured_is_served_with_its_own_config(dist: Path) -> None:
    tenant, api, web = (str(uuid.uuid4()) for _ in range(3))
    values = {
        "API_BASE_URL": "https://func-familystory-t1.azurewebsites.net/api/v1",
        "MEDIA_BLOB_URL": "https://stmediat1.blob.core.windows.net/",
        "FAMILYSTORY_STAFF_TENANT_ID": tenant,
        "FAMILYSTORY_STAFF_API_CLIENT_ID": api,
        "FAMILYSTORY_STAFF_WEB_CLIENT_ID": web,
        "FAMILYSTORY_FAMILY_TENANT_ID": tenant,
        "FAMILYSTORY_FAMILY_APP_CLIENT_ID": api,
        "FAMILYSTORY_FAMILY_TENANT_SUBDOMAIN": "boroughfamilies",
        "FAMILYSTORY_WEB_MAX_OFFLINE_DAYS": "7",
        "FAMILYSTORY_WEB_DIST": str(dist),
        "PATH": "/usr/bin:/bin",
    }
    hook = repo_root() / "infra" / "hooks" / "web-config.sh"
    completed = subprocess.run(
        ["sh", str(hook)], env=values, capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    client = web_client(dist)
    served = client.get("/config.json")
    assert served.json() == json.loads((dist / "config.json").read_text())
    assert served.json()["signIn"] == "entra"
    assert served.json()["maxOfflineDays"] == 7
    # The policy is the hook's (the borough's origins), not narrowed again to the local ones.
    policy = [d.strip() for d in client.get("/").headers["content-security-policy"].split(";")]
    connect = next(d for d in policy if d.startswith("connect-src")).split()
    assert "https://func-familystory-t1.azurewebsites.net" in connect
    assert "https://boroughfamilies.ciamlogin.com" in connect
    assert "https://login.microsoftonline.com" in connect
    assert "http://localhost:7071" not in connect
    assert "upgrade-insecure-requests" not in policy


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"kind": "staff", "roles": ["SocialWorker"], "name": "Sam Patel"}, "staff"),
        ({"kind": "staff", "roles": ["Partner"]}, "partner"),
        ({"kind": "family", "phone": "+447700900123"}, "family"),
    ],
)
def test_dev_token_mints_a_token_the_api_accepts(
    dist: Path, body: dict[str, object], kind: str
) -> None:
    from shared.bootstrap import get_runtime

    oid = str(uuid.uuid4())
    response = web_client(dist).post("/dev/token", json={**body, "oid": oid})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    answer = response.json()
    assert answer["expiresIn"] == 3600
    principal = get_runtime().token_validator.authenticate(f"Bearer {answer['token']}")
    assert (principal.object_id, principal.kind) == (oid, kind)


def test_dev_token_is_refused_when_disabled_or_asked_from_another_machine(dist: Path) -> None:
    body = {"kind": "staff", "roles": ["SocialWorker"], "oid": str(uuid.uuid4())}
    disabled = web_client(dist, enabled=False).post("/dev/token", json=body)
    assert disabled.status_code == 404
    assert "token" not in disabled.text
    remote = web_client(dist, host="192.168.1.20").post("/dev/token", json=body)
    assert remote.status_code == 404
    assert web_client(dist, host="::1").post("/dev/token", json=body).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"kind": "admin", "oid": "8c2d3c5e-3d6a-4a55-9a27-1f1f3a9b0c11"}',
        b'{"kind": "staff", "oid": "nope", "roles": ["SocialWorker"]}',
        b'{"kind": "staff", "oid": "8c2d3c5e-3d6a-4a55-9a27-1f1f3a9b0c11", "roles": []}',
        b'{"kind": "staff", "oid": "8c2d3c5e-3d6a-4a55-9a27-1f1f3a9b0c11", "roles": ["God"]}',
        b'{"kind": "family", "oid": "8c2d3c5e-3d6a-4a55-9a27-1f1f3a9b0c11", "roles": ["Admin"]}',
        b'{"kind": "family", "oid": "8c2d3c5e-3d6a-4a55-9a27-1f1f3a9b0c11", "minutes": 99999}',
        b'{"kind": "family", "oid": "8c2d3c5e-3d6a-4a55-9a27-1f1f3a9b0c11", "name": 5}',
        b"\xff\xfe",
        b"{" + b" " * 5000 + b"}",
    ],
)
def test_dev_token_answers_bad_input_with_400(dist: Path, body: bytes) -> None:
    response = web_client(dist).post("/dev/token", content=body)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 400
