"""Derivatives reach the real ``derivatives`` container (Azurite) with their content types."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from local.emulators import Emulators
from shared.adapters.blob_media import ContainerSink
from shared.bootstrap import get_runtime
from shared.media import Ready, process_upload
from shared.storage_layout import DERIVATIVES_CONTAINER, UPLOADS_CONTAINER
from tests.unit.media import samples


def test_photo_derivatives_are_uploaded_without_exif(stack: Emulators, tmp_path: Path) -> None:
    container = get_runtime().blob_service.get_container_client(DERIVATIVES_CONTAINER)
    source = samples.jpeg_with_gps(tmp_path / "photo.jpg")

    result = process_upload(
        source,
        kind="photo",
        content_type="image/jpeg",
        sink=ContainerSink(container),
        name_prefix=f"family-{tmp_path.name}/media-1/v1",
    )

    assert isinstance(result, Ready)
    for derivative in result.derivatives:
        blob = container.get_blob_client(derivative.name)
        properties = blob.get_blob_properties()
        assert properties.content_settings.content_type == "image/jpeg"
        assert properties.size == derivative.size_bytes
        image = Image.open(io.BytesIO(blob.download_blob().readall()))
        assert len(image.getexif()) == 0
        assert image.size == (derivative.width, derivative.height)


def test_a_video_streamed_from_the_uploads_container_is_processed(
    stack: Emulators, tmp_path: Path
) -> None:
    service = get_runtime().blob_service
    uploads = service.get_container_client(UPLOADS_CONTAINER)
    derivatives = service.get_container_client(DERIVATIVES_CONTAINER)
    name = f"family-{tmp_path.name}/media-2"
    video = samples.synthetic_video(tmp_path / "clip.mp4", seconds=1)
    with video.open("rb") as data:
        uploads.upload_blob(name, data, overwrite=True)

    result = process_upload(
        uploads.get_blob_client(name).download_blob(),
        kind="video",
        content_type="video/mp4",
        sink=ContainerSink(derivatives),
        name_prefix=f"{name}/v1",
    )

    assert isinstance(result, Ready)
    assert result.size_bytes == video.stat().st_size
    stored = {blob.name for blob in derivatives.list_blobs(name_starts_with=f"{name}/v1/")}
    assert stored == {d.name for d in result.derivatives}
    served = derivatives.get_blob_client(result.derivative("video").name)
    assert served.get_blob_properties().content_settings.content_type == "video/mp4"
    assert b"Home Street" not in served.download_blob().readall()
