"""Test fixtures shared by every tier.

The emulators start once per test session on free ports, with their data in a temporary
folder, and stop when the session ends. Each session uses its own database, and tests use
their own ids, so no test depends on another's data or on order.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.config import EXAMPLE, local_values
from local.emulators import Emulators, free_ports
from shared.bootstrap import reset_runtime

HOST_LEVEL_SETTINGS = ("FUNCTIONS_WORKER_RUNTIME", "AzureWebJobsStorage")


@pytest.fixture(scope="session")
def base_settings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The example settings with a private development-issuer key, audit seal key and database
    name."""
    values = local_values(EXAMPLE)
    values["AUTH_DEV_ISSUER_KEY_FILE"] = str(tmp_path_factory.mktemp("issuer") / "key.pem")
    values["AUDIT_SEAL_KEY_FILE"] = str(tmp_path_factory.mktemp("seal") / "audit-seal.key")
    values["COSMOS_DATABASE"] = f"test-{uuid.uuid4().hex[:12]}"
    values["SMS_OUTBOX_PATH"] = str(tmp_path_factory.mktemp("outbox") / "sms.jsonl")
    return values


@pytest.fixture(autouse=True)
def clean_environment(
    base_settings: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Every test starts from the example settings and a fresh runtime, and leaves none behind."""
    for name in list(os.environ):
        if name in base_settings:
            monkeypatch.delenv(name)
    for name, value in base_settings.items():
        monkeypatch.setenv(name, value)
    reset_runtime()
    yield
    reset_runtime()


@pytest.fixture(scope="session")
def emulators(
    tmp_path_factory: pytest.TempPathFactory, base_settings: dict[str, str]
) -> Iterator[Emulators]:
    running = Emulators(ports=free_ports(), state_dir=tmp_path_factory.mktemp("emulators"))
    running.start()
    try:
        base_settings.update(running.settings())
        _provision(base_settings)
        yield running
    finally:
        running.stop()


def _provision(settings: dict[str, str]) -> None:
    saved = dict(os.environ)
    os.environ.update(settings)
    reset_runtime()
    try:
        from local.host.queues import provision_queues
        from shared.adapters.blobs import provision_containers
        from shared.adapters.cosmos import provision_database
        from shared.bootstrap import get_runtime
        from shared.storage_layout import STORAGE_QUEUES

        runtime = get_runtime()
        provision_database(runtime.cosmos_client, runtime.settings.cosmos_database)
        provision_containers(runtime.blob_service)
        provision_queues(settings["MEDIA_STORAGE"], STORAGE_QUEUES)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_runtime()


@pytest.fixture
def stack(
    emulators: Emulators, base_settings: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Emulators:
    """The emulators, with this test's environment pointing the app at them."""
    for name, value in emulators.settings().items():
        monkeypatch.setenv(name, value)
    reset_runtime()
    return emulators


@pytest.fixture(scope="session")
def app_functions() -> list[Any]:
    """Every function of the app, indexed once (the library allows one call per app)."""
    from function_app import app

    return list(app.get_functions())


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
