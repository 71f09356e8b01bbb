"""The ports: what services need from storage, links, the clock and token sealing.

Services depend on these Protocols only; ``shared/adapters`` implements them on the Azure SDKs,
``tests/fakes`` in memory. The SMS and reminder ports live with their services
(``shared.sms.port``, ``shared.reminders.ports``).
"""

from shared.ports.audit import AuditAnchors, AuditStore, SealKey
from shared.ports.directory import Counters, Directory
from shared.ports.disposals import Disposals
from shared.ports.errors import (
    AlreadyExistsError,
    MissingError,
    StorageError,
    StorageUnavailableError,
    VersionMismatchError,
)
from shared.ports.media import (
    BlobInfo,
    BlobLinks,
    DerivativeSink,
    Lease,
    MediaBlobs,
    Readable,
    SignedUrl,
)
from shared.ports.operations import Operations
from shared.ports.partners import PartnerGrants
from shared.ports.records import Document, Listing, QueryPage, Reach, RecordStore
from shared.ports.runtime import Clock, HealthProbe, Runtime, Signer

__all__ = [
    "AlreadyExistsError",
    "AuditAnchors",
    "AuditStore",
    "BlobInfo",
    "BlobLinks",
    "Clock",
    "Counters",
    "DerivativeSink",
    "Directory",
    "Disposals",
    "Document",
    "HealthProbe",
    "Lease",
    "Listing",
    "MediaBlobs",
    "MissingError",
    "Operations",
    "PartnerGrants",
    "QueryPage",
    "Reach",
    "Readable",
    "RecordStore",
    "Runtime",
    "SealKey",
    "SignedUrl",
    "Signer",
    "StorageError",
    "StorageUnavailableError",
    "VersionMismatchError",
]
