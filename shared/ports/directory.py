"""What the services need from the directory: documents read by their own id (staff profiles,
family sign-in links, invitations, redemption slots, the token key) and rate-limit counters.

Point operations only, but for the two questions asked across documents: which sign-ins are
linked to a family, and whether anyone belongs to a team. Documents may carry a ``ttl`` (seconds
after their last write); the store deletes them after it, late.
"""

from __future__ import annotations

from typing import Protocol

from shared.ports.records import Document, QueryPage


class Directory(Protocol):
    def read(self, document_id: str) -> Document | None: ...

    def create(self, document: Document) -> Document:
        """Raises ``AlreadyExistsError`` when the id is taken."""
        ...

    def upsert(self, document: Document) -> Document: ...

    def replace(self, document: Document, etag: str) -> Document:
        """Raises ``VersionMismatchError`` when ``etag`` is stale, ``MissingError`` when gone."""
        ...

    def delete(self, document_id: str, etag: str) -> None:
        """Delete the document if it is still at ``etag`` (``VersionMismatchError``,
        ``MissingError`` otherwise)."""
        ...

    def sign_ins_of(self, family_id: str) -> list[Document]:
        """Sign-in link documents that may be linked to the family (older ones, which do not
        say which families they are linked to, included)."""
        ...

    def team_has_staff(self, team_id: str) -> bool: ...

    def team_staff(self, team_id: str) -> list[Document]:
        """The staff entries of a team's members (safety alerts text its managers)."""
        ...

    def staff_page(self, limit: int, continuation: str | None) -> QueryPage:
        """Staff entries in id order."""
        ...


class Counters(Protocol):
    def add(self, counter_id: str, amount: int, ttl_seconds: int) -> int:
        """Add ``amount`` to the counter (created at 0 if missing); the count after, atomically."""
        ...
