from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from local.emulators import Emulators, free_port
from tests.conftest import repo_root


@dataclass
class RunningHost:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


HostFactory = Callable[..., RunningHost]


@pytest.fixture(scope="module")
def host_factory(
    emulators: Emulators, base_settings: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HostFactory]:
    started: list[RunningHost] = []

    def start(app: str = "function_app", **extra_env: str) -> RunningHost:
        port = free_port()
        log = tmp_path_factory.mktemp("host") / "host.log"
        env = {**os.environ, **base_settings, **emulators.settings(), **extra_env}
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "local.host", "--port", str(port), "--app", app],
                cwd=repo_root(),
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        host = RunningHost(f"http://127.0.0.1:{port}", process, log)
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
