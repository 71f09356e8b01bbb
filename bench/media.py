"""Media pipeline: thumbnail speed, peak memory, transcription real-time factor.

(a) Thumbnails (1280 and 320 px) of a generated 12-megapixel JPEG: the pipeline (JPEG draft
    mode, reducing_gap, metadata check) against a naive Pillow baseline (full decode, LANCZOS
    resize, save), interleaved in the same run. Target: at most 0.3 x the naive time.
(b) Peak memory of a child process running ``process_upload`` on a 24-megapixel photo (target
    under 200 MiB) and on a generated 500 MiB video (target under 300 MiB). Peak = the child's
    own high-water mark (VmHWM) plus the largest of its ffmpeg subprocesses (RUSAGE_CHILDREN),
    an upper bound since Python waits while ffmpeg runs. The baseline for the video is a child
    that holds the upload in memory, as a blob trigger bound to bytes would.
(c) Transcription real-time factor of PocketSphinx on speech synthesised by Festival:
    processing CPU seconds (ours and ffmpeg's) / audio seconds. Target: under 1.

Times are CPU seconds, not wall-clock, so that other work on the machine does not skew them.

Generated files live in a temporary folder that is removed at the end.
"""

from __future__ import annotations

import io
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import BinaryIO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.support import Row, format_table  # noqa: E402

REPETITIONS = 9
VIDEO_BYTES = 500 * 1024 * 1024
THUMBNAIL_TARGET = 0.3
PHOTO_PEAK_TARGET_MIB = 200
VIDEO_PEAK_TARGET_MIB = 300
SPEECH = (
    "The social worker visited the family on Tuesday morning. The children showed their "
    "drawings and talked about school. Their mother said the new routine was working well. "
    "We looked at the plan together and agreed what should happen before the next visit. "
    "The youngest child read a story aloud and everyone listened. We agreed to meet again "
    "next week, at the same time, at the family home."
)


def photo_like(path: Path, size: tuple[int, int]) -> Path:
    """A JPEG about as dense as a phone camera's (12 MP: about 3.7 MB at quality 90): coloured
    gradients under sensor-like noise."""
    from PIL import Image, ImageChops

    width, height = size
    noise = Image.effect_noise(size, 16)
    horizontal = Image.linear_gradient("L").resize(size)
    vertical = Image.linear_gradient("L").rotate(90).resize(size)
    image = Image.merge(
        "RGB",
        (
            ImageChops.add(horizontal, noise, scale=2.0),
            ImageChops.add(vertical, noise, scale=2.0),
            ImageChops.blend(horizontal, noise, 0.5),
        ),
    )
    image.save(path, "JPEG", quality=90)
    assert (width, height) == image.size
    return path


def naive_thumbnails(path: Path) -> list[bytes]:
    from PIL import Image

    outputs = []
    with Image.open(path) as image:
        image.load()
        for side in (1280, 320):
            scale = side / max(image.size)
            target = (round(image.width * scale), round(image.height * scale))
            buffer = io.BytesIO()
            image.resize(target, Image.Resampling.LANCZOS).save(buffer, "JPEG", quality=85)
            outputs.append(buffer.getvalue())
    return outputs


def pipeline_thumbnails(path: Path) -> list[bytes]:
    from shared.media import MediaOptions
    from shared.media.photos import render_thumbnails

    return [r.data for r in render_thumbnails(path, "jpeg", MediaOptions())]


def time_thumbnails(work: Path) -> tuple[float, float]:
    source = photo_like(work / "12mp.jpg", (4000, 3000))
    naive_thumbnails(source)
    pipeline_thumbnails(source)
    ours, naive = [], []
    for _ in range(REPETITIONS):
        started = time.process_time()
        pipeline_thumbnails(source)
        ours.append(time.process_time() - started)
        started = time.process_time()
        naive_thumbnails(source)
        naive.append(time.process_time() - started)
    return statistics.median(ours), statistics.median(naive)


def child_peak(*args: str) -> dict[str, float]:
    completed = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    measured: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    return measured


class DiscardingSink:
    """Reads each derivative to its end and keeps nothing, as an upload to Blob Storage would."""

    def write(self, name: str, content_type: str, data: BinaryIO, length: int) -> None:
        while data.read(1024 * 1024):
            pass


def run_child(mode: str, path: str, kind: str, content_type: str) -> None:
    """Inside the measured child: process the upload, or do what the baseline does."""
    status: str
    if mode == "pipeline":
        from shared.media import PocketsphinxEngine, process_upload

        result = process_upload(
            Path(path),
            kind=kind,  # type: ignore[arg-type]
            content_type=content_type,
            sink=DiscardingSink(),
            name_prefix="bench",
            engine=PocketsphinxEngine() if kind != "photo" else None,
        )
        status = result.status
    elif mode == "naive":
        from PIL import Image, ImageOps

        with Image.open(path) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
            upright.save(io.BytesIO(), "JPEG", quality=85)
            naive_thumbnails(Path(path))
        status = "naive"
    else:
        status = f"held {len(Path(path).read_bytes())} bytes"
    own = _vm_hwm_mib()
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"python": own, "ffmpeg": children, "status": status}))


def _vm_hwm_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def big_video(path: Path) -> Path:
    from shared.media import Ffmpeg

    Ffmpeg().run(
        "-loglevel", "error",
        "-f", "lavfi", "-i", "testsrc2=s=1920x1080:r=25:d=60",
        "-f", "lavfi", "-i", "sine=f=220:d=60",
        "-vf", "noise=alls=30:allf=t", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0",
        "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", "-fs", str(VIDEO_BYTES),
        "-y", str(path),
    )  # fmt: skip
    return path


def real_time_factor(work: Path) -> tuple[float, float]:
    from shared.media import PocketsphinxEngine

    text = work / "speech.txt"
    text.write_text(SPEECH)
    speech = work / "speech.wav"
    subprocess.run(
        ["text2wave", "-o", str(speech), "-eval", "(voice_kal_diphone)", str(text)],
        check=True,
        capture_output=True,
    )
    with wave.open(str(speech)) as reader:
        audio_seconds = reader.getnframes() / reader.getframerate()
    engine = PocketsphinxEngine()
    started = _cpu_seconds()
    engine.transcribe(speech, "wav", work_dir=work)
    return _cpu_seconds() - started, audio_seconds


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (ffmpeg): steady on a busy machine."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def measure() -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-media-") as folder:
        work = Path(folder)
        ours, naive_seconds = time_thumbnails(work)
        rows.append(
            Row(
                f"media: thumbnails of a 12 MP JPEG vs naive Pillow (CPU, median of {REPETITIONS})",
                ours * 1000,
                "ms",
                baseline=naive_seconds * 1000,
                target=f"ratio <= {THUMBNAIL_TARGET}",
                met=ours / naive_seconds <= THUMBNAIL_TARGET,
            )
        )

        photo = photo_like(work / "24mp.jpg", (6000, 4000))
        measured = child_peak("pipeline", str(photo), "photo", "image/jpeg")
        baseline = child_peak("naive", str(photo), "photo", "image/jpeg")
        peak = measured["python"] + measured["ffmpeg"]
        rows += [
            Row(
                "media: peak memory, 24 MP photo",
                peak,
                "MiB",
                target=f"< {PHOTO_PEAK_TARGET_MIB} MiB",
                met=peak < PHOTO_PEAK_TARGET_MIB,
            ),
            Row(
                "media: peak memory, 24 MP photo, naive Pillow (reference)",
                baseline["python"],
                "MiB",
            ),
        ]
        photo.unlink()

        video = big_video(work / "500mib.mp4")
        size_mib = video.stat().st_size / 2**20
        measured = child_peak("pipeline", str(video), "video", "video/mp4")
        held = child_peak("hold", str(video), "video", "video/mp4")
        peak = measured["python"] + measured["ffmpeg"]
        rows += [
            Row(
                f"media: peak memory, {size_mib:.0f} MiB video ({measured['status']}: "
                f"Python {measured['python']:.0f} + largest ffmpeg {measured['ffmpeg']:.0f})",
                peak,
                "MiB",
                target=f"< {VIDEO_PEAK_TARGET_MIB} MiB",
                met=peak < VIDEO_PEAK_TARGET_MIB,
            ),
            Row(
                f"media: peak memory, {size_mib:.0f} MiB video held in memory (reference)",
                held["python"],
                "MiB",
            ),
        ]
        video.unlink()

        seconds, audio_seconds = real_time_factor(work)
        factor = seconds / audio_seconds
        rows.append(
            Row(
                f"media: transcription real-time factor, {seconds:.1f} s CPU for "
                f"{audio_seconds:.1f} s of speech",
                factor,
                "",
                target="< 1",
                met=factor < 1,
            )
        )
    return rows


def main() -> int:
    started = time.perf_counter()
    rows = measure()
    print(format_table(rows))
    print(f"\n(bench took {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        run_child(*sys.argv[2:6])
        sys.exit(0)
    sys.exit(main())
