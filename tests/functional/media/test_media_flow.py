"""Media end to end on the emulators: upload slot -> PUT to Azurite -> blob-created event ->
queue message -> record.

The queue-triggered function is called through ``get_user_function()`` with the message Event
Grid writes for the ``Microsoft.Storage.BlobCreated`` event Azure Storage raises; uploads go to
the SAS URL over HTTP, as a device sends them.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import azure.functions as func
import httpx
import pytest
from azure.core.exceptions import ServiceRequestError
from PIL import Image

from functions import media
from local.emulators import Emulators
from shared.adapters.blob_media import ContainerSink
from shared.bootstrap import get_runtime
from shared.storage_layout import DERIVATIVES_CONTAINER, ORIGINALS_CONTAINER, UPLOADS_CONTAINER
from tests.functional.world import World
from tests.unit.media import samples
from tests.unit.media.wer import word_error_rate

MAX_WORD_ERROR_RATE = 0.15
"""As in the unit tests: Festival's kal voice is recognised almost word for word."""


def base(world: World) -> str:
    return f"/families/{world.family}/media"


def slot(world: World, role: str, body: dict[str, Any]) -> dict[str, Any]:
    made = world.api.post(base(world), world.token(role), body)
    assert made.status == 201, made.body
    return dict(made.body)


def put(upload: dict[str, Any], data: bytes) -> httpx.Response:
    return httpx.put(upload["url"], content=data, headers=upload["headers"])


def blob_created(
    container: str, name: str, event_type: str = "Microsoft.Storage.BlobCreated"
) -> func.QueueMessage:
    """The queue message Event Grid writes for a blob-created event (``StorageQueue`` endpoint):
    the event alone, as JSON; the host hands the function the decoded body."""
    event = {
        "id": str(uuid.uuid4()),
        "topic": "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Storage/"
        "storageAccounts/media",
        "subject": f"/blobServices/default/containers/{container}/blobs/{name}",
        "eventType": event_type,
        "eventTime": datetime.now(UTC).isoformat(),
        "data": {"api": "PutBlockList", "blobType": "BlockBlob"},
        "dataVersion": "",
    }
    return func.queue.QueueMessage(
        id=str(uuid.uuid4()), body=json.dumps(event).encode(), dequeue_count=1
    )


def deliver(world: World, media_id: str) -> None:
    """What the queue trigger does with the upload's message."""
    message = blob_created(UPLOADS_CONTAINER, f"{world.family}/{media_id}")
    media.media_process_upload.build().get_user_function()(message)


def upload(world: World, role: str, path: Path | bytes, body: dict[str, Any]) -> dict[str, Any]:
    data = path if isinstance(path, bytes) else path.read_bytes()
    made = slot(world, role, {**body, "sizeBytes": len(data)})
    assert put(made["upload"], data).status_code == 201
    deliver(world, made["id"])
    return made


def fetch(world: World, media_id: str, role: str = "social_worker") -> dict[str, Any]:
    found = world.api.get(f"{base(world)}/{media_id}", world.token(role))
    assert found.status == 200, found.body
    return dict(found.body)


def expiry(url: str) -> datetime:
    value = parse_qs(urlsplit(url).query)["se"][0]
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def image_at(url: str) -> Image.Image:
    response = httpx.get(url)
    assert response.status_code == 200
    return Image.open(io.BytesIO(response.content))


def test_photo_with_gps_is_served_upright_without_any_exif(
    world: World, stack: Emulators, tmp_path: Path
) -> None:
    photo = samples.jpeg_with_gps(tmp_path / "garden.jpg", size=(1600, 800), orientation=6)
    made = upload(
        world, "social_worker", photo, {"kind": "photo", "contentType": "image/jpeg",
                                         "fileName": "garden.jpg"}
    )  # fmt: skip

    record = fetch(world, made["id"])
    assert record["status"] == "ready"
    assert (record["width"], record["height"]) == (800, 1600)
    served = httpx.get(record["downloadUrl"])
    assert served.headers["content-disposition"].startswith('attachment; filename="garden.jpg"')
    assert expiry(record["downloadUrl"]) <= datetime.now(UTC) + timedelta(minutes=5, seconds=5)
    images = {"photo": Image.open(io.BytesIO(served.content))}
    images |= {t["size"]: image_at(t["url"]) for t in record["thumbnails"]}
    assert set(images) == {"photo", "small", "large"}
    for name, image in images.items():
        assert len(image.getexif()) == 0, name
        assert not {"exif", "xmp", "comment"} & set(image.info), name
        assert image.height > image.width, name  # the quarter turn is applied
        top = image.convert("RGB").getpixel((image.width // 2, image.height // 8))
        assert isinstance(top, tuple)
        assert top[0] > 200 > top[2], name  # red on top, as the camera saw it
    assert max(images["small"].size) <= 320
    assert max(images["large"].size) <= 1280
    assert samples.COMMENT not in served.content

    service = get_runtime().blob_service
    name = f"{world.family}/{made['id']}"
    assert not service.get_blob_client(UPLOADS_CONTAINER, name).exists()
    original = service.get_blob_client(ORIGINALS_CONTAINER, name).download_blob().readall()
    assert original == photo.read_bytes()  # the record keeps what was uploaded, unserved


@pytest.mark.parametrize(
    ("sample", "reason"),
    [
        ("executable", "looks like a program"),
        ("bomb", "pixels"),
        ("truncated", "damaged"),
    ],
)
def test_hostile_photos_are_rejected_with_a_reason(
    world: World, stack: Emulators, tmp_path: Path, sample: str, reason: str
) -> None:
    if sample == "executable":
        data = Path(shutil.which("true") or "/bin/true").read_bytes()
        content_type = "image/jpeg"
    elif sample == "bomb":
        data = samples.bomb_png(tmp_path / "bomb.png").read_bytes()
        content_type = "image/png"
    else:
        data = samples.jpeg_with_gps(tmp_path / "whole.jpg").read_bytes()
        data = data[: len(data) // 2]
        content_type = "image/jpeg"

    made = upload(world, "social_worker", data, {"kind": "photo", "contentType": content_type})

    record = fetch(world, made["id"])
    assert record["status"] == "rejected"
    assert reason in record["rejectedReason"].lower() or reason in record["rejectedReason"]
    assert "downloadUrl" not in record
    assert "thumbnails" not in record
    derivatives = get_runtime().blob_service.get_container_client(DERIVATIVES_CONTAINER)
    assert not list(derivatives.list_blobs(name_starts_with=f"{world.family}/{made['id']}"))


def noise_png(side: int) -> bytes:
    """A valid PNG of random pixels: incompressible, so about ``3 * side**2`` bytes."""
    image = Image.frombytes("RGB", (side, side), os.urandom(3 * side * side))
    return samples.encoded(image, "PNG")


@pytest.mark.parametrize("declared", ["smaller", "larger"])
def test_an_upload_of_another_size_than_declared_is_rejected(
    world: World, stack: Emulators, declared: str
) -> None:
    data = noise_png(1024)
    size = 100 if declared == "smaller" else len(data) + 1
    made = slot(world, "family_member", {"kind": "photo", "contentType": "image/png",
                                         "sizeBytes": size})  # fmt: skip
    assert put(made["upload"], data).status_code == 201
    deliver(world, made["id"])

    record = fetch(world, made["id"])
    assert record["status"] == "rejected"
    reason = record["rejectedReason"]
    if declared == "smaller":
        assert "is 3 MiB" in reason
        assert "100 bytes" in reason
    else:  # both round to 3 MiB, so the reason gives them exactly
        assert f"is {len(data):,} bytes" in reason
        assert f"{size:,} bytes" in reason
    assert "downloadUrl" not in record
    stored = get_runtime().records.read(world.family, made["id"])
    assert stored is not None
    assert stored["rejectedCode"] == "size-mismatch"
    name = f"{world.family}/{made['id']}"
    service = get_runtime().blob_service
    assert not service.get_blob_client(UPLOADS_CONTAINER, name).exists()
    derivatives = service.get_container_client(DERIVATIVES_CONTAINER)
    assert not list(derivatives.list_blobs(name_starts_with=name))


def test_upload_url_writes_one_blob_only_and_cannot_read(world: World, stack: Emulators) -> None:
    made = slot(world, "social_worker", {"kind": "audio", "contentType": "audio/wav",
                                         "sizeBytes": 4})  # fmt: skip
    url = made["upload"]["url"]
    assert made["upload"]["method"] == "PUT"
    expires = datetime.fromisoformat(made["upload"]["expiresAt"].replace("Z", "+00:00"))
    assert expires <= datetime.now(UTC) + timedelta(minutes=15, seconds=5)
    assert expiry(url) == expires.replace(microsecond=0)

    path, query = url.split("?", 1)
    elsewhere = f"{path.rsplit('/', 1)[0]}/{uuid.uuid4()}?{query}"
    assert (
        httpx.put(elsewhere, content=b"evil", headers=made["upload"]["headers"]).status_code == 403
    )
    container = f"{path.rsplit('/', 2)[0]}?{query}&restype=container&comp=list"
    assert httpx.get(container).status_code == 403
    assert put(made["upload"], b"RIFF").status_code == 201
    assert httpx.get(url).status_code == 403

    name = f"{world.family}/{made['id']}"
    get_runtime().blob_service.get_blob_client(UPLOADS_CONTAINER, name).delete_blob()


def test_upload_url_is_refused_after_it_expires(world: World, stack: Emulators) -> None:
    name = f"{world.family}/{uuid.uuid4()}"
    signed = get_runtime().blob_links.upload(UPLOADS_CONTAINER, name, timedelta(seconds=1))
    time.sleep(2.5)
    headers = {"x-ms-blob-type": "BlockBlob"}
    assert httpx.put(signed.url, content=b"late", headers=headers).status_code == 403


def test_large_upload_in_blocks_resumes_after_a_fresh_url(
    world: World, stack: Emulators, tmp_path: Path
) -> None:
    from azure.storage.blob import BlobBlock, BlobClient

    data = samples.jpeg_with_gps(tmp_path / "photo.jpg").read_bytes()
    made = slot(world, "family_member", {"kind": "photo", "contentType": "image/jpeg",
                                         "sizeBytes": len(data)})  # fmt: skip
    chunks = [data[i : i + 4096] for i in range(0, len(data), 4096)]
    ids = [f"{i:06d}" for i in range(len(chunks))]
    first = BlobClient.from_blob_url(made["upload"]["url"])
    half = len(chunks) // 2
    for block_id, chunk in zip(ids[:half], chunks[:half], strict=True):
        first.stage_block(block_id, chunk)

    again = world.api.post(base(world), world.token("family_member"), {
        "id": made["id"], "kind": "photo", "contentType": "image/jpeg", "sizeBytes": len(data),
    })  # fmt: skip
    assert again.status == 200
    second = BlobClient.from_blob_url(again.body["upload"]["url"])
    for block_id, chunk in zip(ids[half:], chunks[half:], strict=True):
        second.stage_block(block_id, chunk)
    second.commit_block_list([BlobBlock(block_id) for block_id in ids])
    deliver(world, made["id"])

    record = fetch(world, made["id"], "family_member")
    assert record["status"] == "ready"
    assert record["visibility"] == "family"
    original = get_runtime().blob_service.get_blob_client(
        ORIGINALS_CONTAINER, f"{world.family}/{made['id']}"
    )
    assert original.download_blob().readall() == data


def test_video_gives_a_poster_and_thumbnails(
    world: World, stack: Emulators, tmp_path: Path
) -> None:
    video = samples.synthetic_video(tmp_path / "visit.mp4", seconds=1)
    made = upload(world, "social_worker", video, {"kind": "video", "contentType": "video/mp4"})

    record = fetch(world, made["id"])
    assert record["status"] == "ready", record
    assert (record["width"], record["height"]) == (320, 240)
    assert record["durationSeconds"] == pytest.approx(1.0, abs=0.2)
    poster = image_at(record["posterUrl"])
    assert poster.size == (320, 240)
    assert len(poster.getexif()) == 0
    assert [t["size"] for t in record["thumbnails"]] == ["small", "large"]
    assert image_at(record["thumbnails"][0]["url"]).width <= 320
    served = httpx.get(record["downloadUrl"])
    assert served.headers["content-type"] == "video/mp4"
    assert b"Home Street" not in served.content


def test_family_sees_a_transcript_only_once_staff_approve_it(
    world: World, stack: Emulators, tmp_path: Path
) -> None:
    speech = samples.speech_wav(tmp_path / "speech.wav")
    made = upload(world, "social_worker", speech, {"kind": "audio", "contentType": "audio/wav",
                                                   "visibility": "family"})  # fmt: skip
    path = f"{base(world)}/{made['id']}"

    staff_view = fetch(world, made["id"])
    assert staff_view["status"] == "ready"
    transcript = staff_view["transcript"]
    assert transcript["status"] == "draft"
    assert word_error_rate(samples.SPEECH_TEXT, transcript["text"]) < MAX_WORD_ERROR_RATE
    assert transcript["segments"][0]["start"] >= 0

    family = world.token("family_member")
    assert "transcript" not in fetch(world, made["id"], "family_member")
    listed = world.api.get(base(world), family, params={"limit": "100"})
    shown = next(item for item in listed.body["items"] if item["id"] == made["id"])
    assert "transcript" not in shown
    assert "downloadUrl" in shown
    pulled = world.api.get("/sync", family, params={"limit": "1000"})
    synced = [c["data"] for c in pulled.body["changes"] if c["id"] == made["id"]]
    assert synced
    assert "transcript" not in synced[0]

    refused = world.api.patch(path, family, {"transcriptApproved": True})
    assert refused.status in (403, 422)
    approved = world.api.patch(path, world.token("social_worker"), {"transcriptApproved": True})
    assert approved.status == 200, approved.body
    assert approved.body["transcript"]["status"] == "approved"
    seen = fetch(world, made["id"], "family_member")
    assert seen["transcript"]["status"] == "approved"
    assert seen["transcript"]["text"] == transcript["text"]


def test_the_same_blob_event_twice_gives_one_result(
    world: World, stack: Emulators, tmp_path: Path
) -> None:
    photo = samples.jpeg_with_gps(tmp_path / "photo.jpg", size=(400, 300))
    made = upload(world, "social_worker", photo, {"kind": "photo", "contentType": "image/jpeg"})
    first = fetch(world, made["id"])

    deliver(world, made["id"])
    deliver(world, made["id"])

    again = fetch(world, made["id"])
    assert again["status"] == "ready"
    assert again["version"] == first["version"]


def test_an_upload_to_a_finished_slot_is_discarded(
    world: World, stack: Emulators, tmp_path: Path
) -> None:
    photo = samples.jpeg_with_gps(tmp_path / "photo.jpg", size=(400, 300))
    made = upload(world, "social_worker", photo, {"kind": "photo", "contentType": "image/jpeg"})
    first = fetch(world, made["id"])

    assert put(made["upload"], b"replaced later").status_code == 201
    deliver(world, made["id"])

    assert fetch(world, made["id"])["version"] == first["version"]
    name = f"{world.family}/{made['id']}"
    service = get_runtime().blob_service
    assert not service.get_blob_client(UPLOADS_CONTAINER, name).exists()
    assert service.get_blob_client(ORIGINALS_CONTAINER, name).download_blob().readall() == (
        photo.read_bytes()
    )


def test_an_upload_that_keeps_failing_ends_rejected(
    world: World, stack: Emulators, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def storage_down(*args: object, **kwargs: object) -> None:
        raise ServiceRequestError("derivatives unavailable")

    monkeypatch.setattr(ContainerSink, "write", storage_down)
    data = samples.jpeg_with_gps(tmp_path / "photo.jpg", size=(400, 300)).read_bytes()
    made = slot(world, "social_worker", {"kind": "photo", "contentType": "image/jpeg",
                                         "sizeBytes": len(data)})  # fmt: skip
    assert put(made["upload"], data).status_code == 201

    for _ in range(3):
        with pytest.raises(ServiceRequestError):
            deliver(world, made["id"])
        assert fetch(world, made["id"])["status"] == "processing"
    deliver(world, made["id"])

    record = fetch(world, made["id"])
    assert record["status"] == "rejected"
    assert "after 3 attempts" in record["rejectedReason"]


def test_slot_requests_are_checked_before_any_upload(world: World, stack: Emulators) -> None:
    staff, family = world.token("social_worker"), world.token("family_member")
    photo = {"kind": "photo", "contentType": "image/jpeg", "sizeBytes": 1000}

    too_big = world.api.post(base(world), staff, {**photo, "sizeBytes": 25 * 1024 * 1024 + 1})
    assert too_big.status == 413
    assert too_big.body["detail"] == "Photos can be at most 25 MiB."
    wrong_type = world.api.post(base(world), staff, {**photo, "contentType": "image/gif"})
    assert wrong_type.status == 422
    assert wrong_type.body["errors"] == [
        {"loc": ["body", "contentType"], "type": "unsupported_content_type"}
    ]
    mismatch = world.api.post(base(world), staff, {**photo, "kind": "video"})
    assert mismatch.status == 422
    assert world.api.post(base(world), family, {**photo, "visibility": "family"}).status == 403
    assert world.api.post(base(world), staff, {**photo, "sizeBytes": 0}).status == 422

    by_staff = world.api.post(base(world), staff, photo)
    assert by_staff.body["visibility"] == "professionals"
    assert by_staff.body["status"] == "awaiting_upload"
    assert by_staff.header("Location") is not None
    by_family = world.api.post(base(world), family, {**photo, "caption": "Our garden"})
    assert by_family.body["visibility"] == "family"
    repeated = world.api.post(
        base(world), family, {**photo, "caption": "Our garden", "id": by_family.body["id"]}
    )
    assert repeated.status == 200
    assert repeated.body["upload"]["url"]
    assert world.api.get(f"{base(world)}/{by_staff.body['id']}", family).status == 404


def test_family_member_captions_and_deletes_only_their_own_media(
    world: World, stack: Emulators
) -> None:
    family = world.token("family_member")
    photo = {"kind": "photo", "contentType": "image/jpeg", "sizeBytes": 1000}
    own = world.api.post(base(world), family, photo).body["id"]
    staff_shared = slot(world, "social_worker", {**photo, "visibility": "family"})["id"]
    staff_only = slot(world, "social_worker", photo)["id"]

    captioned = world.api.patch(f"{base(world)}/{own}", family, {"caption": "Our garden"})
    assert captioned.status == 200
    assert captioned.body["caption"] == "Our garden"
    hidden = world.api.patch(f"{base(world)}/{own}", family, {"visibility": "professionals"})
    assert hidden.status == 403
    assert world.api.patch(f"{base(world)}/{staff_shared}", family, {"caption": "x"}).status == 403
    listed = world.api.get(base(world), family, params={"limit": "100"}).body["items"]
    assert {item["visibility"] for item in listed} == {"family"}
    assert staff_only not in {item["id"] for item in listed}
    assert world.api.delete(f"{base(world)}/{own}", family).status == 204
    assert world.api.get(f"{base(world)}/{own}", family).status == 404
