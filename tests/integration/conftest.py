from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import azure.functions as func
import httpx
import pytest

from local.emulators import Emulators, free_port
from local.host.eventgrid import KEYS_FILE_SETTING, SYSTEM_KEY_NAME
from shared.bootstrap import reset_runtime
from tests.conftest import repo_root
from tests.functional.api import InProcessApi
from tests.functional.world import World, build_world


@dataclass
class RunningHost:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    keys_file: Path

    @property
    def event_grid_key(self) -> str:
        """The host's ``eventgrid_extension`` system key, which its Event Grid webhook asks for."""
        return str(json.loads(self.keys_file.read_text())[SYSTEM_KEY_NAME])

    def output(self) -> str:
        return self.log.read_text(errors="replace")


HostFactory = Callable[..., RunningHost]

# Rate limits lifted, for hosts whose tests send one caller's requests by the thousand (fuzzing):
# each request must reach the code it is meant for, not a 429.
UNLIMITED_RATES = {
    name: "1000000000"
    for name in (
        "RATE_LIMIT_FAMILY_WRITES",
        "RATE_LIMIT_STAFF_WRITES",
        "RATE_LIMIT_FAMILY_READS",
        "RATE_LIMIT_STAFF_READS",
        "RATE_LIMIT_PARTNER_WRITES",
        "RATE_LIMIT_PARTNER_READS",
    )
}


# The sealing run looks at every family of the session's database written since its last run
# (the first one: ever); tests/functional/test_audit_chain.py tests it. A host sealing the whole
# session's database every minute would only slow the HTTP tests here, so it seals once a year.
RARE_SEALING = {"AUDIT_SEAL_SCHEDULE": "0 0 0 1 1 *"}


@pytest.fixture(scope="module")
def host_factory(
    emulators: Emulators, base_settings: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HostFactory]:
    started: list[RunningHost] = []

    def start(app: str = "function_app", **extra_env: str) -> RunningHost:
        port = free_port()
        folder = tmp_path_factory.mktemp("host")
        log = folder / "host.log"
        keys = folder / "host-keys.json"
        env = {
            **os.environ,
            **base_settings,
            **emulators.settings(),
            **RARE_SEALING,
            KEYS_FILE_SETTING: str(keys),
            **extra_env,
        }
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "local.host", "--port", str(port), "--app", app],
                cwd=repo_root(),
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        host = RunningHost(f"http://127.0.0.1:{port}", process, log, keys)
        started.append(host)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"local host exited:\n{host.output()}")
            try:
                httpx.get(f"{host.url}/api/v1/", timeout=1)
                return host
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"local host did not start:\n{host.output()}")

    yield start
    for host in started:
        host.process.terminate()
        try:
            host.process.wait(10)
        except subprocess.TimeoutExpired:
            host.process.kill()
            host.process.wait()


@pytest.fixture(scope="module")
def world(
    emulators: Emulators, base_settings: dict[str, str], app_functions: list[func.Function]
) -> Iterator[World]:
    """Two teams, two families and every role, seeded in process, for tests that then reach the
    same emulators through a host."""
    saved = dict(os.environ)
    os.environ.update(base_settings)
    reset_runtime()
    try:
        yield build_world(InProcessApi(app_functions))
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_runtime()
