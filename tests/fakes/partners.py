"""``PartnerGrants`` in memory, over the in-memory records store the grants are written to."""

from __future__ import annotations

from shared.grants import GRANT_TYPE
from shared.ports.records import Document
from tests.fakes.records import InMemoryRecords


class InMemoryPartnerGrants:
    def __init__(self, records: InMemoryRecords) -> None:
        self.records = records

    def active_of(self, tenant_id: str, object_id: str, now: str) -> list[Document]:
        return [
            d
            for d in self.records.documents.all()
            if d.get("type") == GRANT_TYPE
            and d.get("partnerOid") == object_id
            and d.get("partnerTid") == tenant_id
            and d.get("deleted") is False
            and "revokedAt" not in d
            and str(d.get("expiresAt")) > now
        ]
