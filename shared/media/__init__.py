"""The media processing core: sniff, sanitise, thumbnail and transcribe an upload.

Pure library code, called by the blob-triggered function. Heavy libraries (Pillow, pillow-heif,
imageio-ffmpeg, PocketSphinx, the Azure SDKs) are imported inside the functions that use them,
never when this package is imported.
"""

from shared.media.azure_speech import AzureSpeechEngine
from shared.media.errors import MediaRejectedError, TranscriptionError
from shared.media.ffmpeg import Ffmpeg
from shared.media.models import (
    PROCESSING_RESULT,
    Derivative,
    ProcessingResult,
    Ready,
    Rejected,
    Transcript,
    TranscriptSegment,
)
from shared.media.pipeline import Readable, process_upload
from shared.media.pocketsphinx_engine import PocketsphinxEngine
from shared.media.policy import ALLOWED_CONTENT_TYPES, Kind, MediaOptions
from shared.media.sinks import ContainerSink, DerivativeSink, DirectorySink, MemorySink
from shared.media.transcription import RecognisedSpeech, SpeechSegment, TranscriptionEngine

__all__ = [
    "ALLOWED_CONTENT_TYPES",
    "PROCESSING_RESULT",
    "AzureSpeechEngine",
    "ContainerSink",
    "Derivative",
    "DerivativeSink",
    "DirectorySink",
    "Ffmpeg",
    "Kind",
    "MediaOptions",
    "MediaRejectedError",
    "MemorySink",
    "PocketsphinxEngine",
    "ProcessingResult",
    "Readable",
    "Ready",
    "RecognisedSpeech",
    "Rejected",
    "SpeechSegment",
    "Transcript",
    "TranscriptSegment",
    "TranscriptionEngine",
    "TranscriptionError",
    "process_upload",
]
