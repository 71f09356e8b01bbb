"""The app settings in the Bicep and the settings the code reads never drift apart.

``shared/settings.py`` declares every setting the code reads with a scope: ``azure`` (the Bicep
must set it), ``both`` (it may) or ``local`` (emulators and the development issuer only: nothing
under ``infra/`` may even mention it). The Bicep sets app settings in one object in
``infra/app/api.bicep``; the only other names it may set are the Functions host's own, listed
here.
"""

from __future__ import annotations

from typing import Any

from shared.settings import Settings, declared_settings
from tests.infra.bicep import (
    FIXTURES,
    INFRA,
    app_settings,
    bicep_files,
    drift_problems,
    mentions,
    parse,
    resources,
)

API = INFRA / "app" / "api.bicep"

# Read by the Functions host or its extensions, not by our code.
HOST_LEVEL_SETTINGS = frozenset(
    {
        # Host storage, identity-based (Flex Consumption).
        "AzureWebJobsStorage__accountName",
        "AzureWebJobsStorage__credential",
        "AzureWebJobsStorage__clientId",
        # The MEDIA_STORAGE connection of the upload queue trigger, identity-based; the host
        # also reads MEDIA_STORAGE__queueServiceUri, which the code declares too.
        "MEDIA_STORAGE__credential",
        "MEDIA_STORAGE__clientId",
        # Telemetry to Application Insights with Entra ID auth (the host's; the code reads the
        # connection string too, and declares it), the Python worker's OpenTelemetry mode, and
        # the Azure Monitor exporter's usage statistics turned off.
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
        "PYTHON_ENABLE_OPENTELEMETRY",
        "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL",
    }
)

# Settings Flex Consumption rejects, or that would carry account keys.
FORBIDDEN_IN_AZURE = frozenset(
    {
        "FUNCTIONS_WORKER_RUNTIME",
        "FUNCTIONS_EXTENSION_VERSION",
        "WEBSITE_RUN_FROM_PACKAGE",
        "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
        "WEBSITE_CONTENTSHARE",
        "AzureWebJobsStorage",
    }
)


def _settings() -> dict[str, Any]:
    return app_settings(parse(API))


def test_bicep_sets_every_setting_the_code_needs_and_only_those() -> None:
    assert drift_problems(_settings(), declared_settings(), HOST_LEVEL_SETTINGS) == []


def test_drift_check_finds_missing_unknown_and_local_settings() -> None:
    bicep = app_settings(parse(FIXTURES / "drift_api.bicep"))
    problems = drift_problems(bicep, declared_settings(), HOST_LEVEL_SETTINGS)
    assert (
        "AUTH_STAFF_TENANT_ID: scope azure in the code, but the Bicep does not set it" in problems
    )
    assert "SMS_FROM: the Bicep sets it but shared/settings.py does not declare it" in problems
    assert "COSMOS__accountKey: a local-only setting must never be set in Azure" in problems
    assert not any(problem.startswith("COSMOS__accountEndpoint") for problem in problems)


def test_no_local_setting_is_mentioned_anywhere_in_infra() -> None:
    local = [name for name, scope in declared_settings().items() if scope == "local"]
    assert "AUTH_DEV_ISSUER_ENABLED" in local
    assert mentions(local, INFRA) == []


def test_local_setting_search_matches_whole_names_only() -> None:
    assert mentions(["MEDIA_STORAGE"], INFRA) == []
    assert mentions(["MEDIA_STORAGE__blobServiceUri"], INFRA) != []


def test_host_storage_and_the_code_use_the_managed_identity() -> None:
    settings = _settings()
    assert settings["AzureWebJobsStorage__credential"] == "managedidentity"
    assert settings["AzureWebJobsStorage__clientId"] == "identityClientId"
    assert settings["AZURE_CLIENT_ID"] == "identityClientId"
    assert (
        settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]
        == "ClientId=${identityClientId};Authorization=AAD"
    )


def test_no_setting_flex_consumption_rejects_or_that_carries_keys() -> None:
    assert FORBIDDEN_IN_AZURE & set(_settings()) == set()


def test_app_settings_are_set_in_one_place() -> None:
    other = [
        f"{path.relative_to(INFRA)}:{name}"
        for path in bicep_files()
        for name, resource in parse(path).get("resources", {}).items()
        if resource["type"] == "Microsoft.Web/sites/config"
    ]
    assert other == []


def test_database_name_default_matches_the_code() -> None:
    default = Settings.model_fields["cosmos_database"].default
    assert parse(INFRA / "main.bicep")["parameters"]["cosmosDatabaseName"]["default"] == default


def test_every_setting_a_trigger_names_is_set_by_the_bicep(app_functions: list[Any]) -> None:
    """A %SETTING% in a trigger (a timer schedule, a blob path) that the app settings lack stops
    the Functions host, whatever default the code has."""
    import re

    referenced: set[str] = set()
    for function in app_functions:
        for binding in function.get_bindings():
            for value in binding.get_dict_repr().values():
                referenced.update(re.findall(r"%([A-Za-z0-9_]+)%", str(value)))
    missing = referenced - set(app_settings(parse(API)))
    assert referenced
    assert missing == set()


def test_the_worker_has_a_thread_for_every_request_an_instance_admits() -> None:
    """Flex Consumption admits perInstanceConcurrency HTTP requests per instance (one, for a
    Python app, unless set); the worker runs them on PYTHON_THREADPOOL_THREAD_COUNT threads, and
    the SDK pools are sized from that. Both come from one parameter, so they cannot differ."""
    template = parse(API)
    (_, site), *_ = resources(template, "Microsoft.Web/sites")
    scale = site["properties"]["functionAppConfig"]["scaleAndConcurrency"]
    parameter = scale["triggers"]["http"]["perInstanceConcurrency"]
    threads = app_settings(template)["PYTHON_THREADPOOL_THREAD_COUNT"]

    assert parameter == "httpPerInstanceConcurrency"
    converted = {"type": "string", "parameters": {"value_to_convert": parameter}}
    assert threads == {"function": converted}
    assert template["parameters"][parameter]["default"] > 1
    main = parse(INFRA / "main.bicep")["parameters"][parameter]
    assert main["default"] == template["parameters"][parameter]["default"]
