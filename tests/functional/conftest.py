from __future__ import annotations

import os
from collections.abc import Iterator

import azure.functions as func
import pytest

from local.emulators import Emulators
from shared.bootstrap import reset_runtime
from tests.functional.api import InProcessApi
from tests.functional.world import World, build_world


@pytest.fixture(scope="session")
def api(app_functions: list[func.Function]) -> InProcessApi:
    return InProcessApi(app_functions)


@pytest.fixture(scope="module")
def world(
    emulators: Emulators, base_settings: dict[str, str], api: InProcessApi
) -> Iterator[World]:
    saved = dict(os.environ)
    os.environ.update(base_settings)
    reset_runtime()
    try:
        yield build_world(api)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_runtime()


@pytest.fixture(scope="module")
def one_instance(world: World, base_settings: dict[str, str]) -> Iterator[None]:
    """One runtime for a whole module, as one Functions instance keeps its runtime (clients,
    caches) between requests. For modules of many cheap cases that change no setting: a fresh
    runtime per test costs more than the request it serves. Such a module replaces the root
    ``clean_environment`` and ``stack`` with fixtures that ask for this one."""
    saved = dict(os.environ)
    os.environ.update(base_settings)
    reset_runtime()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_runtime()
