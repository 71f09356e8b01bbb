"""ffmpeg (the binary that ``imageio-ffmpeg`` ships) run as a subprocess, file to file.

Every run has a timeout, reads only local files (``-protocol_whitelist file``) and names its
input demuxer, so an upload can never be read as a playlist that points somewhere else. The
bytes never pass through Python: ffmpeg streams from the input file to the output file.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Literal

LOG_LIMIT_BYTES = 256 * 1024
DEMUXERS = {"isobmff": "mov", "webm": "matroska", "ogg": "ogg", "wav": "wav", "mp3": "mp3"}

_INPUT = re.compile(r"^Input #0, (?P<names>[\w,]+), from ")
_DURATION = re.compile(r"^  Duration: (?P<h>\d+):(?P<m>\d\d):(?P<s>\d\d(?:\.\d+)?)")
_STREAM = re.compile(
    r"^  Stream #0:\d+\S*: (?P<type>Video|Audio|Subtitle|Data|Attachment): (?P<codec>\w+)"
)
_SIZE = re.compile(r", (?P<w>\d{1,5})x(?P<h>\d{1,5})\b")
_ROTATION = re.compile(
    r"^\s+display ?matrix: rotation of (?P<degrees>-?\d+(?:\.\d+)?) degrees", re.IGNORECASE
)


class FfmpegError(Exception):
    """ffmpeg failed or ran out of time. ``log`` is the end of what it wrote to stderr."""

    def __init__(self, log: str, *, timed_out: bool = False) -> None:
        super().__init__(log)
        self.log = log
        self.timed_out = timed_out


@dataclass(frozen=True)
class StreamInfo:
    type: Literal["video", "audio", "other"]
    codec: str
    width: int | None = None
    height: int | None = None
    attached_picture: bool = False
    rotation: float = 0.0

    @property
    def display_size(self) -> tuple[int, int] | None:
        """Width and height as the video plays (rotated by its display matrix)."""
        if self.width is None or self.height is None:
            return None
        if round(self.rotation) % 180 == 90:
            return self.height, self.width
        return self.width, self.height


@dataclass(frozen=True)
class Probe:
    demuxers: frozenset[str]
    duration_seconds: float | None
    streams: tuple[StreamInfo, ...]

    @property
    def video(self) -> StreamInfo | None:
        return next((s for s in self.streams if s.type == "video" and not s.attached_picture), None)

    @property
    def has_audio(self) -> bool:
        return any(s.type == "audio" for s in self.streams)


class Ffmpeg:
    """Runs the ffmpeg binary. ``executable`` defaults to the one ``imageio-ffmpeg`` ships."""

    def __init__(self, executable: str | None = None, timeout_seconds: float = 600.0) -> None:
        self._executable = executable
        self.timeout_seconds = timeout_seconds

    @property
    def executable(self) -> str:
        if self._executable is None:
            import imageio_ffmpeg  # type: ignore[import-untyped]

            self._executable = str(imageio_ffmpeg.get_ffmpeg_exe())
        return self._executable

    def run(self, *args: str, timeout_seconds: float | None = None, check: bool = True) -> str:
        """Run ffmpeg with ``args``; return its log. Raise ``FfmpegError`` on failure."""
        command = [self.executable, "-nostdin", "-hide_banner", "-nostats", *args]
        with tempfile.TemporaryFile() as log_file:
            try:
                completed = subprocess.run(  # noqa: S603 - a fixed binary and our own arguments
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=log_file,
                    timeout=timeout_seconds or self.timeout_seconds,
                    check=False,
                )
            except subprocess.TimeoutExpired as error:
                raise FfmpegError("ffmpeg timed out", timed_out=True) from error
            log = _read_log(log_file)
        if check and completed.returncode != 0:
            raise FfmpegError(log[-2000:])
        return log

    def input_args(self, path: Path, family: str) -> list[str]:
        return ["-protocol_whitelist", "file", "-f", DEMUXERS[family], "-i", f"file:{path}"]

    def probe(self, path: Path, family: str) -> Probe:
        log = self.run("-loglevel", "info", *self.input_args(path, family), check=False)
        probe = parse_probe(log)
        if probe is None:
            raise FfmpegError(log[-2000:])
        return probe


def parse_probe(log: str) -> Probe | None:
    """Read the input description ffmpeg prints for ``-i``; None if it printed none."""
    demuxers: frozenset[str] | None = None
    duration: float | None = None
    streams: list[StreamInfo] = []
    for line in log.splitlines():
        if match := _INPUT.match(line):
            demuxers = frozenset(match["names"].split(","))
        elif match := _DURATION.match(line):
            duration = int(match["h"]) * 3600 + int(match["m"]) * 60 + float(match["s"])
        elif match := _STREAM.match(line):
            streams.append(_stream(match["type"], match["codec"], line))
        elif (match := _ROTATION.match(line)) and streams and streams[-1].type == "video":
            streams[-1] = replace(streams[-1], rotation=float(match["degrees"]))
    if demuxers is None:
        return None
    return Probe(demuxers=demuxers, duration_seconds=duration, streams=tuple(streams))


def _stream(kind: str, codec: str, line: str) -> StreamInfo:
    if kind == "Audio":
        return StreamInfo("audio", codec)
    if kind != "Video":
        return StreamInfo("other", codec)
    size = _SIZE.search(line)
    return StreamInfo(
        "video",
        codec,
        width=int(size["w"]) if size else None,
        height=int(size["h"]) if size else None,
        attached_picture="(attached pic)" in line,
    )


def _read_log(log_file: IO[bytes]) -> str:
    log_file.seek(0)
    return log_file.read(LOG_LIMIT_BYTES).decode("utf-8", "replace")
