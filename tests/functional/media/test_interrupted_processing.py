"""A processing run cut off midway (the worker killed, the instance recycled) is safely run again.

The run is stopped at each step by an exception no handler in the processor catches, as if the
process had died there. A dead worker stops renewing its lease on the upload, so the lease lapses
(broken here, rather than waited for); then the queue message comes back (its own lease with the
host lapsed too), or, when no message comes, the recheck timer finds the stalled attempt. Either
way the result is the one a clean run gives: the record ready once, the original archived byte
for byte, the upload gone and every derivative in place, with nothing left over.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from azure.functions.timer import TimerRequest
from azure.storage.blob import BlobLeaseClient

from functions import media
from local.emulators import Emulators
from shared.adapters.blob_media import ContainerSink
from shared.bootstrap import get_runtime
from shared.services.media_processing import MediaProcessor
from shared.storage_layout import DERIVATIVES_CONTAINER, ORIGINALS_CONTAINER, UPLOADS_CONTAINER
from tests.functional.media.test_media_flow import blob_created, deliver, fetch, put, slot
from tests.functional.world import World
from tests.unit.media import samples


class Killed(BaseException):
    """Raised at a step to stand for the process dying there: ``except Exception`` misses it."""


def kill_after(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> None:
    """Let ``owner.name`` run once, then die."""
    original: Callable[..., Any] = getattr(owner, name)

    def then_die(*args: Any, **kwargs: Any) -> Any:
        original(*args, **kwargs)
        raise Killed(name)

    monkeypatch.setattr(owner, name, then_die)


@pytest.fixture
def photo(world: World, stack: Emulators, tmp_path: Path) -> Iterator[tuple[str, bytes]]:
    data = samples.jpeg_with_gps(tmp_path / "photo.jpg", size=(400, 300)).read_bytes()
    made = slot(world, "social_worker", {"kind": "photo", "contentType": "image/jpeg",
                                         "sizeBytes": len(data)})  # fmt: skip
    assert put(made["upload"], data).status_code == 201
    yield made["id"], data
    get_runtime().clock = lambda: datetime.now(UTC)


def derivative_names(world: World, media_id: str) -> list[str]:
    container = get_runtime().blob_service.get_container_client(DERIVATIVES_CONTAINER)
    return sorted(
        b.name for b in container.list_blobs(name_starts_with=f"{world.family}/{media_id}")
    )


def lease_lapses(world: World, media_id: str) -> None:
    """What a minute without the dead worker's renewals does to its lease on the upload."""
    upload = get_runtime().blob_service.get_blob_client(
        UPLOADS_CONTAINER, f"{world.family}/{media_id}"
    )
    BlobLeaseClient(upload).break_lease(lease_break_period=0)


def assert_processed_once(world: World, media_id: str, data: bytes) -> dict[str, Any]:
    record = fetch(world, media_id)
    assert record["status"] == "ready"
    service = get_runtime().blob_service
    name = f"{world.family}/{media_id}"
    assert not service.get_blob_client(UPLOADS_CONTAINER, name).exists()
    assert service.get_blob_client(ORIGINALS_CONTAINER, name).download_blob().readall() == data
    assert derivative_names(world, media_id), "the derivatives were written"
    return record


# Each step of a run, in order: a derivative written, the original archived, the record finished,
# the upload deleted. Killing the run after each leaves a different state behind.
CUTS = [
    pytest.param(ContainerSink, "write", id="after-first-derivative"),
    pytest.param(MediaProcessor, "_archive", id="after-archive"),
    pytest.param(MediaProcessor, "_finish", id="after-record-finished"),
]


@pytest.mark.parametrize(("owner", "step"), CUTS)
def test_a_run_killed_midway_is_completed_by_the_redelivered_event(
    world: World,
    photo: tuple[str, bytes],
    monkeypatch: pytest.MonkeyPatch,
    owner: Any,
    step: str,
) -> None:
    media_id, data = photo
    with monkeypatch.context() as cut:
        kill_after(cut, owner, step)
        with pytest.raises(Killed):
            deliver(world, media_id)
    clean = derivative_names(world, media_id)
    if step != "_finish":  # after the record is finished, the upload's own lease is moot
        deliver(world, media_id)  # while the dead worker's lease holds: nothing happens
        assert fetch(world, media_id)["status"] == "processing"
    lease_lapses(world, media_id)

    deliver(world, media_id)

    record = assert_processed_once(world, media_id, data)
    assert set(clean) <= set(derivative_names(world, media_id))
    deliver(world, media_id)  # a late duplicate of the event changes nothing
    assert fetch(world, media_id)["version"] == record["version"]


def test_a_run_killed_midway_with_its_event_lost_is_found_by_the_recheck(
    world: World, photo: tuple[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    media_id, data = photo
    with monkeypatch.context() as cut:
        kill_after(cut, ContainerSink, "write")
        with pytest.raises(Killed):
            deliver(world, media_id)
    assert fetch(world, media_id)["status"] == "processing"
    lease_lapses(world, media_id)

    recheck = media.media_recheck.build().get_user_function()
    recheck(TimerRequest())  # too soon: the attempt might still be running elsewhere
    assert fetch(world, media_id)["status"] == "processing"

    later = datetime.now(UTC) + timedelta(hours=1)
    get_runtime().clock = lambda: later
    recheck(TimerRequest())

    assert_processed_once(world, media_id, data)


def test_events_for_other_containers_or_kinds_are_ignored(
    world: World, photo: tuple[str, bytes]
) -> None:
    media_id, _ = photo
    name = f"{world.family}/{media_id}"
    process = media.media_process_upload.build().get_user_function()
    process(blob_created(ORIGINALS_CONTAINER, name))
    process(blob_created(UPLOADS_CONTAINER, name, "Microsoft.Storage.BlobDeleted"))

    assert fetch(world, media_id)["status"] == "awaiting_upload"


def test_an_upload_whose_event_never_came_is_swept_up_by_the_recheck(
    world: World, photo: tuple[str, bytes]
) -> None:
    media_id, data = photo  # uploaded, and no event delivered
    recheck = media.media_recheck.build().get_user_function()

    recheck(TimerRequest())  # the event may still be on its way
    assert fetch(world, media_id)["status"] == "awaiting_upload"

    later = datetime.now(UTC) + timedelta(minutes=11)
    get_runtime().clock = lambda: later
    recheck(TimerRequest())

    assert_processed_once(world, media_id, data)
    recheck(TimerRequest())  # nothing is left in uploads to sweep
    assert fetch(world, media_id)["status"] == "ready"
