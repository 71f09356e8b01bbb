"""Errors of the media pipeline. Only ``MediaRejectedError`` is about the upload itself."""

from __future__ import annotations


class MediaRejectedError(Exception):
    """The upload cannot be accepted. ``reason`` is written for the person who uploaded it."""

    def __init__(self, reason: str, code: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class TranscriptionError(Exception):
    """The speech engine could not transcribe the recording.

    ``transient`` says whether trying again later may succeed (the service was unavailable or
    throttled) or not (the service refused this recording).
    """

    def __init__(self, reason: str, *, transient: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


class UnsafeOutputError(Exception):
    """A derivative about to be published still carries metadata: a bug, never served."""
