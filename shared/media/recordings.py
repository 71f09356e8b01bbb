"""Audio and video: check that ffmpeg decodes them, grab a poster frame, and serve a clean copy.

The served copy is a stream copy (``-c copy``, no re-encoding, file to file) of the picture and
sound only: global, stream and chapter metadata are dropped (``-map_metadata -1``: no location,
no device, no creation time), and so are subtitle, data (GPS tracks) and attachment streams and
cover pictures. ``+bitexact`` keeps the muxers from writing their version or random ids, so the
same upload always gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared.media.errors import MediaRejectedError
from shared.media.ffmpeg import Ffmpeg, FfmpegError, Probe
from shared.media.photos import Rendition, render_thumbnails
from shared.media.policy import Kind, MediaOptions, Role
from shared.media.sniff import FAMILIES

POSTER_AT_SECONDS = 1.0
DECODE_CHECK_SECONDS = 30
DECODER_THREADS = 2  # each decoding thread holds frames: memory must not grow with the cores


@dataclass(frozen=True)
class ServedFormat:
    muxer: str
    extension: str
    options: tuple[str, ...] = ()


SERVED_FORMATS = {
    "video/mp4": ServedFormat("mp4", "mp4", ("-movflags", "+faststart")),
    "video/quicktime": ServedFormat("mov", "mov", ("-movflags", "+faststart")),
    "audio/mp4": ServedFormat("mp4", "m4a", ("-movflags", "+faststart")),
    "video/webm": ServedFormat("webm", "webm"),
    "audio/webm": ServedFormat("webm", "webm"),
    "audio/ogg": ServedFormat("ogg", "ogg"),
    "audio/wav": ServedFormat("wav", "wav"),
    "audio/mpeg": ServedFormat("mp3", "mp3", ("-id3v2_version", "0")),
}


def probe_recording(ffmpeg: Ffmpeg, path: Path, family: str, kind: Kind) -> Probe:
    """The recording's streams; rejects what ffmpeg cannot read or what lacks the kind's stream."""
    label = FAMILIES[family].label
    try:
        probe = ffmpeg.probe(path, family)
    except FfmpegError as error:
        raise _undecodable(kind, label, error) from error
    if kind == "video" and probe.video is None:
        raise MediaRejectedError("The video has no picture in it.", "no-video-stream")
    if kind == "audio" and not probe.has_audio:
        raise MediaRejectedError("The audio recording has no sound in it.", "no-audio-stream")
    return probe


def check_audio_decodes(ffmpeg: Ffmpeg, path: Path, family: str, work_dir: Path) -> None:
    """Decode the start of the sound; reject a recording whose sound cannot be decoded."""
    sample = work_dir / "decode-check.raw"
    try:
        ffmpeg.run(
            "-loglevel", "error", *ffmpeg.input_args(path, family),
            "-map", "0:a:0", "-t", str(DECODE_CHECK_SECONDS), "-ac", "1", "-ar", "8000",
            "-f", "s16le", "-y", f"file:{sample}",
        )  # fmt: skip
        decoded = sample.exists() and sample.stat().st_size > 0
    except FfmpegError as error:
        raise _undecodable("audio", FAMILIES[family].label, error) from error
    finally:
        sample.unlink(missing_ok=True)
    if not decoded:
        raise MediaRejectedError(
            "The audio recording could not be played: it is damaged or empty.", "undecodable"
        )


def render_stills(
    ffmpeg: Ffmpeg,
    path: Path,
    family: str,
    probe: Probe,
    options: MediaOptions,
    work_dir: Path,
) -> list[Rendition]:
    """A poster frame and thumbnails, oriented as the video plays, as metadata-free JPEGs."""
    frame = work_dir / "frame.png"
    duration = probe.duration_seconds or 0.0
    for at in dict.fromkeys((min(POSTER_AT_SECONDS, duration / 2), 0.0)):
        frame.unlink(missing_ok=True)
        try:
            ffmpeg.run(
                "-loglevel", "error", "-threads", str(DECODER_THREADS), "-ss", f"{at:.3f}",
                *ffmpeg.input_args(path, family),
                "-map", "0:V:0", "-frames:v", "1", "-an", "-sn", "-dn",
                "-vf", "scale=w=iw*sar:h=ih,setsar=1", "-pix_fmt", "rgb24", "-c:v", "png",
                "-update", "1", "-f", "image2", "-y", f"file:{frame}",
            )  # fmt: skip
        except FfmpegError as error:
            if error.timed_out:
                raise _undecodable("video", FAMILIES[family].label, error) from error
            continue
        if frame.exists() and frame.stat().st_size > 0:
            break
    else:
        raise MediaRejectedError(
            "The video could not be played: no picture could be decoded from it.", "undecodable"
        )
    roles: tuple[tuple[Role, int], ...] = (
        ("poster", options.poster_max_side),
        *options.thumbnail_sides,
    )
    try:
        return render_thumbnails(frame, "png", options, roles)
    finally:
        frame.unlink(missing_ok=True)


def remux(
    ffmpeg: Ffmpeg,
    path: Path,
    family: str,
    kind: Kind,
    content_type: str,
    work_dir: Path,
) -> Path:
    """A copy of the picture and sound streams without metadata, in the uploaded container."""
    served = SERVED_FORMATS[content_type]
    output = work_dir / f"served.{served.extension}"
    streams = ["-map", "0:V?", "-map", "0:a?"] if kind == "video" else ["-map", "0:a"]
    try:
        ffmpeg.run(
            "-loglevel", "error", *ffmpeg.input_args(path, family), *streams,
            "-c", "copy", "-map_metadata", "-1", "-map_chapters", "-1",
            "-fflags", "+bitexact", *served.options, "-f", served.muxer, "-y", f"file:{output}",
        )  # fmt: skip
    except FfmpegError as error:
        raise _undecodable(kind, FAMILIES[family].label, error) from error
    return output


def _undecodable(kind: str, label: str, error: FfmpegError) -> MediaRejectedError:
    noun = "video" if kind == "video" else "audio recording"
    if error.timed_out:
        return MediaRejectedError(
            f"The {noun} took too long to process; it may be damaged.", "processing-timeout"
        )
    return MediaRejectedError(
        f"The {noun} could not be read as {label}: it is damaged or incomplete.", "undecodable"
    )
