"""One borough for the whole suite, built once, with the app's runtime kept between tests.

The suite sends a few thousand requests at a world nothing here changes, so the root
``clean_environment`` (a fresh runtime for every test) is replaced for this package: the
example settings and the emulators' are set once, the runtime is reset once before and once
after, and the environment is restored when the package ends. Keeping the runtime keeps the
app's own per-instance caches (families, callers' profiles, rate-limit tallies), as a Functions
instance does between requests, and makes the suite several times faster.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from local.emulators import Emulators
from shared.bootstrap import reset_runtime
from tests.security.borough import Borough, build_borough
from tests.security.catalogue import Catalogue, served_document
from tests.security.client import Client

# A handful of callers send thousands of requests here; each caller's rate limit is raised so
# that every answer is the app's answer about the object, never a 429 about the caller.
# (Rate limits have tests of their own.)
UNLIMITED = {
    name: "1000000"
    for name in (
        "RATE_LIMIT_FAMILY_WRITES",
        "RATE_LIMIT_STAFF_WRITES",
        "RATE_LIMIT_FAMILY_READS",
        "RATE_LIMIT_STAFF_READS",
        "RATE_LIMIT_PARTNER_WRITES",
        "RATE_LIMIT_PARTNER_READS",
    )
}


# Every words entry counts as waiting for an acknowledgement at once, so that the managers'
# list of them (GET /words/unacknowledged) holds family A's, for the outsiders' checks to mean
# something.
NOTHING_WAITS = {"WORDS_ACK_DAYS": "0"}


@pytest.fixture(scope="package")
def security_settings(
    emulators: Emulators, base_settings: dict[str, str]
) -> Iterator[dict[str, str]]:
    saved = dict(os.environ)
    os.environ.update(base_settings)
    os.environ.update(emulators.settings())
    os.environ.update(UNLIMITED)
    os.environ.update(NOTHING_WAITS)
    reset_runtime()
    try:
        yield base_settings
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_runtime()


@pytest.fixture(autouse=True)
def clean_environment(security_settings: dict[str, str]) -> None:
    """Replaces the root fixture of this name for this package (see the module docstring)."""


@pytest.fixture(scope="package")
def client(app_functions: list[Any], security_settings: dict[str, str]) -> Iterator[Client]:
    client = Client(app_functions)
    yield client
    client.close()


@pytest.fixture(scope="package")
def catalogue() -> Catalogue:
    return Catalogue(served_document())


@pytest.fixture(scope="package")
def borough(client: Client, catalogue: Catalogue) -> Borough:
    return build_borough(client, catalogue)
