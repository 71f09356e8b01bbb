"""The local host serves, fires and schedules what the decorators declare, and survives failures."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.emulators import Emulators
from tests.integration.conftest import HostFactory, RunningHost


@pytest.fixture(scope="module")
def events_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("events") / "events.jsonl"


@pytest.fixture(scope="module")
def sample_host(host_factory: HostFactory, events_file: Path) -> RunningHost:
    return host_factory(
        "tests.integration.sample_app",
        SAMPLE_EVENTS_FILE=str(events_file),
        SAMPLE_SCHEDULE="*/1 * * * * *",
    )


def events(path: Path, kind: str) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [row for row in rows if row["kind"] == kind]


def wait_until(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def test_http_route_parameters_query_headers_and_body_reach_the_function(
    sample_host: RunningHost,
) -> None:
    response = httpx.post(
        f"{sample_host.url}/api/v1/things/t-1/parts/42?view=full",
        headers={"X-Sample": "yes"},
        content=b'{"a": 1}',
    )
    assert response.status_code == 201
    assert response.headers["x-echo"] == "1"
    assert response.json() == {
        "method": "POST",
        "route": {"thingId": "t-1", "partId": "42"},
        "query": {"view": "full"},
        "header": "yes",
        "body": '{"a": 1}',
    }


def test_route_constraints_methods_and_unknown_paths(sample_host: RunningHost) -> None:
    assert httpx.post(f"{sample_host.url}/api/v1/things/t-1/parts/not-int").status_code == 404
    wrong_method = httpx.get(f"{sample_host.url}/api/v1/things/t-1/parts/1")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"].startswith("application/problem+json")
    assert httpx.get(f"{sample_host.url}/elsewhere").status_code == 404
    trace = httpx.request("TRACE", f"{sample_host.url}/api/v1/things/t-1/parts/1")
    assert trace.status_code == 405
    assert trace.headers["content-type"].startswith("application/problem+json")
    assert trace.json()["status"] == 405


def test_exception_in_a_function_is_a_500_problem_and_the_host_keeps_serving(
    sample_host: RunningHost,
) -> None:
    crashed = httpx.get(f"{sample_host.url}/api/v1/crash")
    assert crashed.status_code == 500
    assert crashed.headers["content-type"].startswith("application/problem+json")
    assert "AccountKey" not in crashed.text
    assert httpx.get(f"{sample_host.url}/api/v1/slow").text == "done"
    assert sample_host.process.poll() is None


def test_invocations_are_logged_with_function_status_and_duration(sample_host: RunningHost) -> None:
    httpx.get(f"{sample_host.url}/api/v1/slow")
    wait_until(lambda: "sample_slow 200" in sample_host.output(), timeout=5)
    line = next(x for x in sample_host.output().splitlines() if "sample_slow 200" in x)
    assert "ms)" in line


def test_blob_trigger_fires_once_per_blob_version_with_path_parameters(
    sample_host: RunningHost, stack: Emulators, events_file: Path
) -> None:
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(stack.storage_connection_string())
    container = service.get_container_client("samples")
    if not container.exists():
        container.create_container()
    name = f"{uuid.uuid4()}/photo.jpg"
    container.upload_blob(name, b"12345")
    container.upload_blob(f"no-folder-{uuid.uuid4()}", b"x")  # does not match {folder}/{name}

    def fired() -> list[dict[str, Any]]:
        return [e for e in events(events_file, "blob") if e["name"] == f"samples/{name}"]

    wait_until(lambda: len(fired()) == 1)
    time.sleep(2.5)
    assert len(fired()) == 1

    container.upload_blob(name, b"1234567", overwrite=True)
    wait_until(lambda: len(fired()) == 2)
    assert [e["length"] for e in fired()] == [5, 7]
    assert not [e for e in events(events_file, "blob") if "no-folder" in e["name"]]


def test_a_failing_blob_is_retried_then_given_up_without_stopping_the_host(
    sample_host: RunningHost, stack: Emulators
) -> None:
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(stack.storage_connection_string())
    container = service.get_container_client("samples")
    if not container.exists():
        container.create_container()
    name = f"{uuid.uuid4()}/bad.bin"
    container.upload_blob(name, b"fail")
    wait_until(lambda: f"giving up on {name}" in sample_host.output(), timeout=30)
    assert sample_host.output().count("sample_blob failed") >= 5
    assert httpx.get(f"{sample_host.url}/api/v1/slow").status_code == 200


def test_timer_runs_on_its_ncrontab_schedule_from_a_setting(
    sample_host: RunningHost, events_file: Path
) -> None:
    wait_until(lambda: len(events(events_file, "timer")) >= 3, timeout=15)
    ticks = [e["at"] for e in events(events_file, "timer")]
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert all(0.5 < gap < 2.5 for gap in gaps[-2:]), gaps
