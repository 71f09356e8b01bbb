"""The media processing core: sniff, sanitise, thumbnail and transcribe an upload.

Pure library code, called by the blob-triggered function. Heavy libraries (Pillow, pillow-heif,
imageio-ffmpeg, PocketSphinx) are imported inside the functions that use them, never when this
package is imported. Where bytes come from and derivatives go (Blob Storage), and the Azure AI
Speech engine, are adapters (``shared/adapters``).
"""

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
from shared.media.pipeline import process_upload
from shared.media.pocketsphinx_engine import PocketsphinxEngine
from shared.media.policy import ALLOWED_CONTENT_TYPES, Kind, MediaOptions
from shared.media.sinks import DerivativeSink, DirectorySink, MemorySink
from shared.media.transcription import RecognisedSpeech, SpeechSegment, TranscriptionEngine
from shared.ports.media import Readable

__all__ = [
    "ALLOWED_CONTENT_TYPES",
    "PROCESSING_RESULT",
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
