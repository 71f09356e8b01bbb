"""What every service is given: the ports, the clock, the settings and the instance's caches.

``shared.bootstrap.Runtime`` builds the real ones once per process; tests build in-memory ones
(``tests/fakes``). Services take this and nothing global.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, MutableMapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from shared.ports.audit import AuditAnchors, AuditStore, AuditTrail, SealKey
    from shared.ports.directory import Directory
    from shared.ports.disposals import Disposals
    from shared.ports.media import BlobLinks, MediaBlobs, TranscriptionEngine
    from shared.ports.operations import Operations
    from shared.ports.partners import PartnerGrants
    from shared.ports.records import RecordStore
    from shared.settings import Settings
    from shared.sms import SmsSender, SmsTemplates

Clock = Callable[[], datetime]
HealthProbe = Callable[[float], object]


class Signer(Protocol):
    """Seals a payload into an opaque, tamper-evident token bound to a scope, and opens one."""

    def seal(self, scope: str, payload: dict[str, Any]) -> str: ...

    def open(self, scope: str, token: str) -> dict[str, Any]:
        """The payload; ``BadRequestError`` for a token not sealed for ``scope``."""
        ...


class Runtime(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def records(self) -> RecordStore: ...

    @property
    def audit(self) -> AuditTrail: ...

    @property
    def audit_store(self) -> AuditStore: ...

    @property
    def audit_anchors(self) -> AuditAnchors: ...

    @property
    def audit_key(self) -> SealKey:
        """The seals' key (sealing and verifying only); a 503 error when it is unavailable."""
        ...

    @property
    def directory(self) -> Directory: ...

    @property
    def operations(self) -> Operations: ...

    @property
    def partner_grants(self) -> PartnerGrants: ...

    @property
    def disposals(self) -> Disposals: ...

    @property
    def media_blobs(self) -> MediaBlobs: ...

    @property
    def blob_links(self) -> BlobLinks: ...

    @property
    def signer(self) -> Signer: ...

    @property
    def sms_sender(self) -> SmsSender: ...

    @property
    def sms_templates(self) -> SmsTemplates: ...

    @property
    def health_probes(self) -> Mapping[str, HealthProbe]: ...

    @property
    def family_cache(self) -> MutableMapping[str, dict[str, Any]]: ...

    @property
    def profile_cache(self) -> MutableMapping[str, dict[str, Any]]: ...

    @property
    def sync_cache(self) -> MutableMapping[str, bool]: ...

    @property
    def cache_lock(self) -> threading.Lock: ...

    def transcription_engine(self) -> TranscriptionEngine | None:
        """A speech-to-text engine for one recording, or None when transcription is off."""
        ...
