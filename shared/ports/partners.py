"""What access needs from the store of partner agencies' grants.

Grants are documents of their family's partition in the records store (``shared.grants``), read
and written through ``RecordStore`` like any record there. The one question asked across
families is whose: a partner's active grants, asked on every request the partner makes, so that
an ended grant is never trusted from a cache.
"""

from __future__ import annotations

from typing import Protocol

from shared.ports.records import Document


class PartnerGrants(Protocol):
    def active_of(self, tenant_id: str, object_id: str, now: str) -> list[Document]:
        """The grant documents, across families, to this partner (``tid`` and ``oid``) that are
        neither revoked nor past their ``expiresAt`` at ``now`` (RFC 3339, UTC)."""
        ...
