"""In-memory implementations of every port (``shared.ports``), for tests that need no Azure.

They keep the promises the adapters make: ETags and conditional writes, creates that fail on a
taken id, continuation paging, TTLs, blob leases. ``FakeRuntime`` wires them together at one
frozen clock.
"""

from tests.fakes.audit import InMemoryAnchors, InMemoryAudit
from tests.fakes.blobs import FakeBlobLinks, InMemoryMediaBlobs
from tests.fakes.directory import InMemoryCounters, InMemoryDirectory
from tests.fakes.disposals import InMemoryDisposals
from tests.fakes.operations import InMemoryOperations
from tests.fakes.partners import InMemoryPartnerGrants
from tests.fakes.records import InMemoryRecords
from tests.fakes.runtime import FakeRuntime

__all__ = [
    "FakeBlobLinks",
    "FakeRuntime",
    "InMemoryAnchors",
    "InMemoryAudit",
    "InMemoryCounters",
    "InMemoryDirectory",
    "InMemoryDisposals",
    "InMemoryMediaBlobs",
    "InMemoryOperations",
    "InMemoryPartnerGrants",
    "InMemoryRecords",
]
