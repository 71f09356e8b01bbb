"""``python -m local.run`` (what ``make run`` starts): up, answering, and gone after Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from local.emulators import free_port
from tests.conftest import repo_root

STARTUP_SECONDS = 60


def processes_mentioning(marker: str) -> list[str]:
    result = subprocess.run(
        ["ps", "-ww", "-eo", "pid,args"], capture_output=True, text=True, check=True
    )
    return [line for line in result.stdout.splitlines() if marker in line and "ps -ww" not in line]


def run_stack(state_dir: Path, port: int, settings: dict[str, str]) -> subprocess.Popen[str]:
    arguments = [
        "--port",
        str(port),
        "--web-port",
        str(free_port()),
        "--cosmos-port",
        str(free_port()),
        "--blob-port",
        str(free_port()),
        "--queue-port",
        str(free_port()),
        "--table-port",
        str(free_port()),
        "--state-dir",
        str(state_dir),
    ]
    env = {**os.environ, **settings}
    return subprocess.Popen(
        [sys.executable, "-m", "local.run", *arguments],
        cwd=repo_root(),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_stack_starts_answers_and_stops_every_process_on_ctrl_c(
    tmp_path: Path, base_settings: dict[str, str]
) -> None:
    state_dir = tmp_path / f"state-{uuid.uuid4().hex[:8]}"
    port = free_port()
    stack = run_stack(state_dir, port, base_settings)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        health = None
        while time.monotonic() < deadline and stack.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None, f"the stack did not answer (exit {stack.poll()})"
        assert health.json() == {"status": "ok", "checks": {"cosmos": "ok", "storage": "ok"}}
        assert processes_mentioning(str(state_dir)), "emulators should be running"
    finally:
        stack.send_signal(signal.SIGINT)
        output, _ = stack.communicate(timeout=30)
    assert stack.returncode == 0
    assert "FamilyStory is running." in output
    assert "python -m local.token staff" in output
    assert "Web app       http://localhost:" in output
    assert "Traceback" not in output
    time.sleep(0.5)
    assert processes_mentioning(str(state_dir)) == []


def test_a_port_in_use_is_named_without_a_traceback(
    tmp_path: Path, base_settings: dict[str, str]
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        stack = run_stack(tmp_path / "state", busy, base_settings)
        output, _ = stack.communicate(timeout=60)
    assert stack.returncode == 1
    assert f"Port {busy}" in output
    assert "Traceback" not in output


@pytest.mark.parametrize(
    ("arguments", "kind"),
    [
        (["staff", "--role", "SocialWorker", "--name", "Sam Patel"], "staff"),
        (["staff", "--role", "Partner", "--name", "Dana Head"], "partner"),
        (["family", "--phone", "+447700900123", "--email", "a@example.org"], "family"),
    ],
)
def test_token_command_prints_a_token_the_api_accepts(
    arguments: list[str], kind: str, base_settings: dict[str, str]
) -> None:
    from shared.bootstrap import get_runtime

    oid = str(uuid.uuid4())
    command = [sys.executable, "-m", "local.token", *arguments[:1], "--oid", oid, *arguments[1:]]
    result = subprocess.run(
        command,
        cwd=repo_root(),
        env={**os.environ, **base_settings},
        capture_output=True,
        text=True,
        check=True,
    )
    principal = get_runtime().token_validator.authenticate(f"Bearer {result.stdout.strip()}")
    assert principal.object_id == oid
    assert principal.kind == kind
