"""Upload -> thumbnails through the local host: an HTTP slot, a PUT to Azurite, and the host's
blob watcher firing the blob-triggered function."""

from __future__ import annotations

import io
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from local.emulators import Emulators
from tests.functional.world import staff
from tests.integration.conftest import HostFactory, RunningHost
from tests.tokens import bearer
from tests.unit.media import samples


@pytest.fixture(scope="module")
def api(host_factory: HostFactory) -> RunningHost:
    return host_factory()


def slot(api: RunningHost, headers: dict[str, str], family: str, data: bytes) -> dict[str, Any]:
    made = httpx.post(
        f"{api.url}/api/v1/families/{family}/media",
        headers=headers,
        json={"kind": "photo", "contentType": "image/jpeg", "sizeBytes": len(data)},
    )
    assert made.status_code == 201, made.text
    upload = made.json()["upload"]
    assert httpx.put(upload["url"], content=data, headers=upload["headers"]).status_code == 201
    return dict(made.json())


def settled(api: RunningHost, headers: dict[str, str], path: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        record = httpx.get(f"{api.url}/api/v1{path}", headers=headers).json()
        if record["status"] in ("ready", "rejected"):
            return dict(record)
        time.sleep(0.3)
    raise AssertionError(f"{path} was not processed in time")


def test_uploads_are_processed_by_the_host_which_survives_a_hostile_one(
    api: RunningHost, stack: Emulators, tmp_path: Path
) -> None:
    worker = staff("SocialWorker", "Sam Patel", [team := str(uuid.uuid4())])
    headers = bearer(worker.token)
    family = httpx.post(
        f"{api.url}/api/v1/families",
        headers=headers,
        json={"displayName": "Media", "teamId": team},
    )
    assert family.status_code == 201, family.text
    family_id = family.json()["id"]
    program = Path(shutil.which("true") or "/bin/true").read_bytes()
    photo = samples.jpeg_with_gps(tmp_path / "photo.jpg", size=(640, 480)).read_bytes()

    hostile = slot(api, headers, family_id, program)
    good = slot(api, headers, family_id, photo)

    base = f"/families/{family_id}/media"
    rejected = settled(api, headers, f"{base}/{hostile['id']}")
    assert rejected["status"] == "rejected"
    assert "program" in rejected["rejectedReason"]
    ready = settled(api, headers, f"{base}/{good['id']}")
    assert ready["status"] == "ready"
    served = Image.open(io.BytesIO(httpx.get(ready["downloadUrl"]).content))
    assert len(served.getexif()) == 0
    assert [t["size"] for t in ready["thumbnails"]] == ["small", "large"]
    assert api.process.poll() is None
    assert "media_process_upload succeeded" in api.output()
