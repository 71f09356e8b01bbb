"""The web app's hosting: a Static Web App per borough, whose origins alone may call the API and
the media account from a browser, served with strict security headers, and configured at
deployment by a hook that writes every field of ``/config.json``.

The hooks run here as azd runs them, over a throwaway copy of a build, with the values an azd
environment holds; nothing reaches Azure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from local.run import (
    BLOB_CORS_EXPOSED,
    BLOB_CORS_HEADERS,
    BLOB_CORS_MAX_AGE,
    BLOB_CORS_METHODS,
)
from tests.infra.bicep import (
    FIXTURES,
    INFRA,
    REPO,
    bicep_files,
    body,
    cors_problems,
    output_secret_problems,
    parse,
)
from tests.infra.web import SWA_CONFIG, csp, swa_config_problems

MAIN = INFRA / "main.bicep"
WEB = INFRA / "app" / "web.bicep"
HOOKS = INFRA / "hooks"
WILDCARDS = (
    "https://*.azurewebsites.net",
    "https://*.blob.core.windows.net",
    "https://*.ciamlogin.com",
)


def _accessor(node: Any) -> list[str]:
    """``a.b.c`` as ["a", "b", "c"] from pycep's nested property accessors."""
    path = []
    while isinstance(node, dict) and node.get("operator", {}).get("type") == "property_accessor":
        operands = node["operator"]["operands"]
        path.append(operands["operand_1"])
        node = operands["operand_2"]
    return [*path, node]


# The Bicep ----------------------------------------------------------------------------------


def test_main_deploys_the_web_module_into_the_group() -> None:
    module = parse(MAIN)["modules"]["web"]
    assert module["detail"]["path"] == "app/web.bicep"
    params = body(module)
    assert params["scope"] == "group"
    assert params["params"]["location"] == "webLocation"
    assert params["params"]["customDomain"] == "webCustomDomain"


def test_the_static_web_app_is_what_azd_deploys_the_web_service_to() -> None:
    sites = parse(WEB)["resources"]
    site = body(sites["site"])
    assert sites["site"]["type"] == "Microsoft.Web/staticSites"
    assert site["tags"]["function"]["parameters"]["arg_2"] == {"'azd-service-name'": "web"}
    # No preview environments: each would be an origin the API does not allow.
    assert site["properties"]["stagingEnvironmentPolicy"] == "Disabled"
    assert site["properties"]["allowConfigFileUpdates"] is True
    domain = sites["domain"]
    assert domain["type"] == "Microsoft.Web/staticSites/customDomains"
    assert body(domain)["properties"] == {"validationMethod": "cname-delegation"}


def test_the_web_region_is_one_that_offers_static_web_apps() -> None:
    location = parse(WEB)["parameters"]["location"]
    allowed = next(d["argument"] for d in location["decorators"] if d["type"] == "allowed")
    assert set(allowed) <= {"westeurope", "centralus", "eastus2", "westus2", "eastasia"}
    assert parse(MAIN)["parameters"]["webLocation"]["default"] in allowed


def test_the_web_origins_are_the_default_host_and_the_custom_domain() -> None:
    origins = parse(WEB)["outputs"]["origins"]["value"]["function"]
    assert origins["type"] == "concat"
    assert origins["parameters"]["arg_1"] == ["https://${site.properties.defaultHostname}"]
    custom = origins["parameters"]["arg_2"]["operator"]["operands"]
    assert custom["true_value"] == []
    assert custom["false_value"] == ["https://${customDomain}"]


def test_the_api_and_the_media_account_allow_the_web_origins_and_no_others() -> None:
    main = parse(MAIN)
    union = main["variables"]["browserOrigins"]["value"]["function"]
    assert union["type"] == "union"
    assert _accessor(union["parameters"]["arg_1"]) == ["web", "outputs", "origins"]
    assert union["parameters"]["arg_2"] == "corsAllowedOrigins"
    given = {
        name: body(module)["params"].get("corsAllowedOrigins")
        for name, module in main["modules"].items()
    }
    assert {name: value for name, value in given.items() if value is not None} == {
        "api": "browserOrigins",
        "mediaStorage": "browserOrigins",
    }
    site = body(parse(INFRA / "app" / "api.bicep")["resources"]["site"])
    assert site["properties"]["siteConfig"]["cors"] == {
        "allowedOrigins": "corsAllowedOrigins",
        "supportCredentials": False,
    }


def test_the_media_account_lets_a_browser_upload_blocks_and_nothing_more() -> None:
    service = body(parse(INFRA / "app" / "storage.bicep")["resources"]["blobService"])
    rules = service["properties"]["cors"]["corsRules"]["operator"]["operands"]
    assert rules["true_value"] == []
    (rule,) = rules["false_value"]
    assert rule["allowedOrigins"] == "corsAllowedOrigins"
    assert set(rule["allowedMethods"]) == {"GET", "HEAD", "PUT"}
    # Put Block, Put Block List and Put Blob from a browser send these.
    assert {"content-type", "x-ms-blob-type", "x-ms-version"} <= set(rule["allowedHeaders"])
    assert "etag" in rule["exposedHeaders"]
    assert 0 < rule["maxAgeInSeconds"] <= 7200
    # Azurite gets the same rule locally, so a request Azure would refuse fails there too.
    assert rule["allowedMethods"] == BLOB_CORS_METHODS
    assert rule["allowedHeaders"] == BLOB_CORS_HEADERS
    assert rule["exposedHeaders"] == BLOB_CORS_EXPOSED
    assert rule["maxAgeInSeconds"] == BLOB_CORS_MAX_AGE


def test_no_cors_setting_in_the_stack_is_wider_than_needed() -> None:
    assert [
        f"{path.relative_to(INFRA)}: {problem}"
        for path in bicep_files()
        for problem in cors_problems(parse(path))
    ] == []


def test_cors_check_fails_on_wildcards_extra_methods_and_credentials() -> None:
    assert cors_problems(parse(FIXTURES / "cors_open.bicep")) == [
        "blobService: origin '*' is not an exact https origin",
        "blobService: allowedHeaders must name each header, not use *",
        "blobService: exposedHeaders must name each header, not use *",
        "blobService: allowedMethods must be GET, HEAD or PUT, not DELETE",
        "site: origin 'http://app.example.org' is not an exact https origin",
        "site: supportCredentials must be false",
    ]


def test_no_parameter_file_opens_cors_to_every_origin() -> None:
    files = [*sorted((INFRA / "tenants").glob("*.bicepparam")), INFRA / "main.parameters.json"]
    for path in files:
        for line in path.read_text().splitlines():
            if "corsAllowedOrigins" in line:
                assert "*" not in line, f"{path.name}: {line}"
                assert "http://" not in line, f"{path.name}: {line}"


def test_the_outputs_name_the_web_app_and_hold_no_secret() -> None:
    outputs = parse(MAIN)["outputs"]
    assert _accessor(outputs["WEB_URL"]["value"]) == ["web", "outputs", "url"]
    assert _accessor(outputs["MEDIA_BLOB_URL"]["value"]) == [
        "mediaStorage",
        "outputs",
        "blobEndpoint",
    ]
    assert output_secret_problems(parse(MAIN)) == []
    assert output_secret_problems(parse(WEB)) == []


def test_the_deployment_token_would_be_caught_as_an_output() -> None:
    assert output_secret_problems(parse(FIXTURES / "web" / "token_output.bicep")) == [
        "output deploymentToken: its name says it holds a secret",
        "output deploymentToken: its value reads a key, secret or connection string",
    ]


# The static host's configuration ----------------------------------------------------------


def test_the_static_host_serves_the_app_with_strict_headers() -> None:
    config = json.loads(SWA_CONFIG.read_text())
    assert swa_config_problems(config) == []
    policy = csp(config["globalHeaders"]["content-security-policy"])
    # MSAL reaches both authorities, the app the API and the media account.
    assert set(WILDCARDS) | {"https://login.microsoftonline.com"} <= set(policy["connect-src"])


def test_the_header_check_fails_on_a_loose_configuration() -> None:
    config = json.loads((FIXTURES / "web" / "staticwebapp.config.json").read_text())
    assert swa_config_problems(config) == [
        "CSP: default-src must be 'none' or 'self'",
        "CSP: script-src must be 'self' alone, not 'self' 'unsafe-inline' https://cdn.example.org",
        "CSP: frame-ancestors must be 'none'",
        "CSP: default-src allows *",
        "CSP: script-src allows 'unsafe-inline'",
        "CSP: connect-src allows http://localhost:7071",
        "globalHeaders: strict-transport-security must last a year or more",
        "globalHeaders: the app's files are not for other origins (no CORS)",
        "navigationFallback: must exclude /config.json, or a missing one is HTML",
        "navigationFallback: must exclude /sw.js, or a missing one is HTML",
        "/index.html: must not be cached (cache-control no-cache or no-store)",
        "/sw.js: must not be cached (cache-control no-cache or no-store)",
        "/config.json: must not be cached (cache-control no-cache or no-store)",
        "/families/any-route: must not be cached (cache-control no-cache or no-store)",
    ]


# azure.yaml -------------------------------------------------------------------------------


def test_azd_builds_the_web_app_and_runs_the_config_hook_before_packaging_it() -> None:
    text = (REPO / "azure.yaml").read_text()
    web = re.search(r"^  web:\n((?:    .*\n)+)", text, re.M)
    assert web, "azure.yaml has no web service"
    block = web.group(1)
    for line in (
        "    project: clients/web",
        "    language: js",
        "    host: staticwebapp",
        "    dist: dist",
        "    hooks:",
        "      prepackage:",
    ):
        assert f"{line}\n" in block, line
    shells = dict(re.findall(r"shell: (\S+)\n\s+run: (\S+)", block))
    service = REPO / "clients" / "web"
    # A service's hooks run from the service's folder.
    assert {shell: (service / run).resolve() for shell, run in shells.items()} == {
        "sh": HOOKS / "web-config.sh",
        "pwsh": HOOKS / "web-config.ps1",
    }
    assert os.access(HOOKS / "web-config.sh", os.X_OK)
    subprocess.run(["sh", "-n", str(HOOKS / "web-config.sh")], check=True)
    package = json.loads((service / "package.json").read_text())
    assert "build" in package["scripts"]
    assert "clients/web" in json.loads((REPO / "package.json").read_text())["workspaces"]


# The hooks --------------------------------------------------------------------------------

STAFF_TENANT = "6f1b2c3d-0000-4000-8000-000000000001"
STAFF_API = "6f1b2c3d-0000-4000-8000-000000000002"
STAFF_WEB = "6f1b2c3d-0000-4000-8000-000000000003"
FAMILY_TENANT = "6f1b2c3d-0000-4000-8000-000000000004"
FAMILY_APP = "6f1b2c3d-0000-4000-8000-000000000005"
FAMILY_WEB = "6f1b2c3d-0000-4000-8000-000000000006"

VALUES = {
    "API_BASE_URL": "https://func-familystory-x7.uksouth-01.azurewebsites.net/api/v1",
    "MEDIA_BLOB_URL": "https://stmediax7.blob.core.windows.net/",
    "FAMILYSTORY_STAFF_TENANT_ID": STAFF_TENANT,
    "FAMILYSTORY_STAFF_API_CLIENT_ID": STAFF_API,
    "FAMILYSTORY_STAFF_WEB_CLIENT_ID": STAFF_WEB,
    "FAMILYSTORY_FAMILY_TENANT_ID": FAMILY_TENANT,
    "FAMILYSTORY_FAMILY_APP_CLIENT_ID": FAMILY_APP,
    "FAMILYSTORY_FAMILY_TENANT_SUBDOMAIN": "westminsterfamilies",
}
REQUIRED = tuple(VALUES)

EXPECTED = {
    "apiBaseUrl": VALUES["API_BASE_URL"],
    "signIn": "entra",
    "staff": {
        "clientId": STAFF_WEB,
        "authority": f"https://login.microsoftonline.com/{STAFF_TENANT}",
        "scopes": [f"api://{STAFF_API}/access_as_user"],
    },
    "family": {
        "clientId": FAMILY_APP,
        "authority": f"https://westminsterfamilies.ciamlogin.com/{FAMILY_TENANT}",
        "scopes": [f"api://{FAMILY_APP}/access_as_user"],
    },
    "maxOfflineDays": 14,
}

SHELLS = [
    pytest.param(["sh", str(HOOKS / "web-config.sh")], id="sh"),
    pytest.param(
        ["pwsh", "-NoProfile", "-File", str(HOOKS / "web-config.ps1")],
        id="pwsh",
        marks=pytest.mark.skipif(shutil.which("pwsh") is None, reason="PowerShell 7 is not here"),
    ),
]


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A build as Vite leaves it: index.html, and public/ copied to the top."""
    folder = tmp_path / "dist"
    folder.mkdir()
    (folder / "index.html").write_text("<!doctype html><title>FamilyStory</title>")
    shutil.copy(SWA_CONFIG, folder / "staticwebapp.config.json")
    return folder


def run_hook(
    command: list[str], dist: Path, values: dict[str, str], path: str = "/usr/bin:/bin"
) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": path, "HOME": str(dist.parent), "FAMILYSTORY_WEB_DIST": str(dist)}
    return subprocess.run(
        command,
        env=environment | values,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _untouched(dist: Path) -> bool:
    return (
        sorted(p.name for p in dist.iterdir())
        == [
            "index.html",
            "staticwebapp.config.json",
        ]
        and (dist / "staticwebapp.config.json").read_bytes() == SWA_CONFIG.read_bytes()
    )


@pytest.mark.parametrize("command", SHELLS)
def test_the_hook_writes_every_config_field(command: list[str], dist: Path) -> None:
    completed = run_hook(command, dist, VALUES)
    assert completed.returncode == 0, completed.stderr
    assert json.loads((dist / "config.json").read_text()) == EXPECTED
    assert sorted(p.name for p in dist.iterdir()) == [
        "config.json",
        "index.html",
        "staticwebapp.config.json",
    ]


@pytest.mark.parametrize("command", SHELLS)
def test_the_hook_narrows_the_policy_to_this_boroughs_origins(
    command: list[str], dist: Path
) -> None:
    assert run_hook(command, dist, VALUES).returncode == 0
    narrowed = json.loads((dist / "staticwebapp.config.json").read_text())
    original = json.loads(SWA_CONFIG.read_text())
    policy = csp(narrowed["globalHeaders"].pop("content-security-policy"))
    assert policy["connect-src"] == [
        "'self'",
        "https://func-familystory-x7.uksouth-01.azurewebsites.net",
        "https://stmediax7.blob.core.windows.net",
        "https://login.microsoftonline.com",
        "https://westminsterfamilies.ciamlogin.com",
    ]
    assert policy["img-src"] == [
        "'self'",
        "blob:",
        "data:",
        "https://stmediax7.blob.core.windows.net",
    ]
    assert policy["frame-src"] == [
        "https://login.microsoftonline.com",
        "https://westminsterfamilies.ciamlogin.com",
    ]
    assert not any("*" in source for sources in policy.values() for source in sources)
    # Nothing else changes.
    del original["globalHeaders"]["content-security-policy"]
    assert narrowed == original


@pytest.mark.parametrize("command", SHELLS)
def test_the_hook_takes_the_family_web_client_and_offline_days_when_set(
    command: list[str], dist: Path
) -> None:
    values = VALUES | {
        "FAMILYSTORY_FAMILY_WEB_CLIENT_ID": FAMILY_WEB,
        "FAMILYSTORY_WEB_MAX_OFFLINE_DAYS": "30",
    }
    assert run_hook(command, dist, values).returncode == 0
    config = json.loads((dist / "config.json").read_text())
    assert config["family"]["clientId"] == FAMILY_WEB
    assert config["family"]["scopes"] == [f"api://{FAMILY_APP}/access_as_user"]
    assert config["maxOfflineDays"] == 30


@pytest.mark.parametrize("command", SHELLS)
@pytest.mark.parametrize("missing", REQUIRED)
def test_the_hook_stops_on_a_missing_value_and_writes_nothing(
    command: list[str], dist: Path, missing: str
) -> None:
    values = {name: value for name, value in VALUES.items() if name != missing}
    completed = run_hook(command, dist, values)
    assert completed.returncode != 0
    assert f"{missing} is not set" in completed.stderr
    assert _untouched(dist)


BAD_VALUES = [
    ("API_BASE_URL", "http://func-familystory-x7.azurewebsites.net/api/v1"),
    ("API_BASE_URL", "https://func-familystory-x7.azurewebsites.net/api/v1/../v2"),
    ("API_BASE_URL", 'https://x.azurewebsites.net/api/v1", "signIn": "dev'),
    ("MEDIA_BLOB_URL", "https://stmediax7.blob.core.windows.net/uploads?sv=2024"),
    ("FAMILYSTORY_STAFF_TENANT_ID", "common"),
    ("FAMILYSTORY_STAFF_WEB_CLIENT_ID", f"{STAFF_WEB}\n{STAFF_WEB}"),
    ("FAMILYSTORY_FAMILY_APP_CLIENT_ID", f"{FAMILY_APP}x"),
    ("FAMILYSTORY_FAMILY_TENANT_SUBDOMAIN", "westminster.evil.example"),
    ("FAMILYSTORY_FAMILY_TENANT_SUBDOMAIN", "Westminster"),
    ("FAMILYSTORY_FAMILY_WEB_CLIENT_ID", "not-a-guid"),
    ("FAMILYSTORY_WEB_MAX_OFFLINE_DAYS", "0"),
    ("FAMILYSTORY_WEB_MAX_OFFLINE_DAYS", "91"),
    ("FAMILYSTORY_WEB_MAX_OFFLINE_DAYS", "14 days"),
]


@pytest.mark.parametrize("command", SHELLS)
@pytest.mark.parametrize(("name", "bad"), BAD_VALUES, ids=lambda v: re.sub(r"\W+", "_", v)[:40])
def test_the_hook_refuses_a_malformed_value_and_writes_nothing(
    command: list[str], dist: Path, name: str, bad: str
) -> None:
    completed = run_hook(command, dist, VALUES | {name: bad})
    assert completed.returncode != 0
    assert f"{name} must be" in completed.stderr
    assert _untouched(dist)


@pytest.mark.parametrize("command", SHELLS)
def test_the_hook_refuses_a_folder_with_no_build(command: list[str], tmp_path: Path) -> None:
    completed = run_hook(command, tmp_path, VALUES)
    assert completed.returncode != 0
    assert "holds no built web app" in completed.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", SHELLS)
def test_the_hook_refuses_to_narrow_a_policy_twice(command: list[str], dist: Path) -> None:
    assert run_hook(command, dist, VALUES).returncode == 0
    again = run_hook(
        command, dist, VALUES | {"MEDIA_BLOB_URL": "https://other.blob.core.windows.net"}
    )
    assert again.returncode != 0
    assert "narrowed already" in again.stderr
    assert "other.blob" not in (dist / "staticwebapp.config.json").read_text()


def test_the_hook_reads_what_the_environment_lacks_from_azd(dist: Path, tmp_path: Path) -> None:
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    store = tmp_path / "azd-env.json"
    store.write_text(json.dumps(VALUES))
    azd = bin_folder / "azd"
    # `azd env get-value NAME` prints the value, or fails for a name the environment lacks.
    azd.write_text(
        "#!/bin/sh\n"
        '[ "$1 $2" = "env get-value" ] || exit 2\n'
        f'jq -er --arg name "$3" \'.[$name] // error("no such value")\' {store}\n'
    )
    azd.chmod(0o755)
    given = {"FAMILYSTORY_STAFF_WEB_CLIENT_ID": STAFF_WEB}
    completed = run_hook(
        ["sh", str(HOOKS / "web-config.sh")], dist, given, path=f"{bin_folder}:/usr/bin:/bin"
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads((dist / "config.json").read_text()) == EXPECTED


def _names(pattern: str, text: str) -> set[str]:
    return set(re.findall(pattern, text))


def test_the_powershell_hook_reads_the_same_values_and_writes_the_same_fields() -> None:
    shell = (HOOKS / "web-config.sh").read_text()
    powershell = (HOOKS / "web-config.ps1").read_text()
    shell_names = _names(r"\$\((?:value|lookup) ([A-Z_]+)", shell)
    powershell_names = _names(r"(?:Get-Value|Find-Value) '([A-Z_]+)'", powershell)
    assert (
        shell_names
        == powershell_names
        == set(REQUIRED)
        | {
            "FAMILYSTORY_FAMILY_WEB_CLIENT_ID",
            "FAMILYSTORY_WEB_MAX_OFFLINE_DAYS",
            "FAMILYSTORY_WEB_DIST",
        }
    )
    for field in ("apiBaseUrl", "signIn", "staff", "family", "clientId", "authority", "scopes"):
        assert re.search(rf"\b{field}\b", powershell), field
    assert "maxOfflineDays" in powershell
    for wildcard in WILDCARDS:
        assert powershell.count(f"'{wildcard}'") == 2, wildcard
    outputs = set(parse(MAIN)["outputs"])
    assert {name for name in shell_names if not name.startswith("FAMILYSTORY_")} <= outputs
