from __future__ import annotations

import json

import pytest

from local.config import EXAMPLE
from shared.settings import Settings, declared_settings

HOST_LEVEL = {"FUNCTIONS_WORKER_RUNTIME", "AzureWebJobsStorage"}


def test_example_settings_list_exactly_the_settings_the_code_reads() -> None:
    example = set(json.loads(EXAMPLE.read_text())["Values"])
    assert example - HOST_LEVEL == set(declared_settings())


def test_every_setting_has_a_scope_and_description() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, name
        assert declared_settings()[str(field.alias)] in {"azure", "both", "local"}


def test_development_issuer_is_off_unless_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTH_DEV_ISSUER_ENABLED", raising=False)
    assert Settings().dev_issuer_enabled is False
    assert declared_settings()["AUTH_DEV_ISSUER_ENABLED"] == "local"


def test_settings_are_read_by_their_app_setting_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSMOS__accountEndpoint", "https://example.documents.azure.com:443/")
    monkeypatch.setenv("AUTH_LEEWAY_SECONDS", "30")
    settings = Settings()
    assert settings.cosmos_endpoint == "https://example.documents.azure.com:443/"
    assert settings.token_leeway_seconds == 30
