"""The store under every in-memory fake: JSON documents by partition and id, as Cosmos DB keeps
them.

- Every write gives the document a new ``_etag`` (its version) and a ``_ts`` (the second of the
  write, on the fake's clock); a conditional write naming an old ``_etag`` fails
  (``VersionMismatchError``), a create of a taken id too (``AlreadyExistsError``).
- Documents carrying a ``ttl`` (seconds) are gone once it has passed since their last write.
- Reads hand out copies, as a database would: changing one changes nothing stored.
- A query page's continuation is the sort key of its last item; the next page starts after it,
  so a page never repeats or skips what did not move, whatever was written in between.
"""

from __future__ import annotations

import copy
import json
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from shared.ports.errors import AlreadyExistsError, MissingError, VersionMismatchError
from shared.ports.records import Document, QueryPage

Key = Callable[[Document], tuple[Any, ...]]
SYSTEM = ("_etag", "_ts", "_rid", "_self", "_attachments", "_lsn")


def utc_now() -> datetime:
    return datetime.now(UTC)


class Documents:
    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self.clock = clock
        self._items: dict[tuple[str, str], tuple[int, Document]] = {}
        self._written = 0
        self._lock = threading.RLock()

    # --- single documents ---------------------------------------------------------------------

    def read(self, partition: str, item_id: str) -> Document | None:
        with self._lock:
            found = self._items.get((partition, item_id))
            if found is None or self._expired(found[1]):
                return None
            return copy.deepcopy(found[1])

    def create(self, partition: str, document: Document) -> Document:
        with self._lock:
            if self.read(partition, str(document["id"])) is not None:
                raise AlreadyExistsError()
            return self._write(partition, document)

    def upsert(self, partition: str, document: Document) -> Document:
        with self._lock:
            return self._write(partition, document)

    def replace(self, partition: str, document: Document, etag: str | None) -> Document:
        with self._lock:
            current = self.read(partition, str(document["id"]))
            if current is None:
                raise MissingError(str(document["id"]))
            if etag is not None and current["_etag"] != etag:
                raise VersionMismatchError()
            return self._write(partition, document)

    def patch_add(self, partition: str, item_id: str, field: str, amount: int) -> Document:
        with self._lock:
            current = self.read(partition, item_id)
            if current is None:
                raise MissingError(item_id)
            current[field] = int(current.get(field, 0)) + amount
            return self._write(partition, current)

    def delete(self, partition: str, item_id: str, etag: str | None = None) -> None:
        with self._lock:
            current = self.read(partition, item_id)
            if current is None:
                raise MissingError(item_id)
            if etag is not None and current["_etag"] != etag:
                raise VersionMismatchError()
            del self._items[(partition, item_id)]

    def put_raw(self, partition: str, document: Document) -> None:
        """Store ``document`` exactly as given (``_ts`` and ``_etag`` included): for tests that
        need a document from the past."""
        with self._lock:
            self._written += 1
            stored = {**copy.deepcopy(document), "_rid": str(self._written)}
            self._items[(partition, str(document["id"]))] = (self._written, stored)

    # --- many documents -----------------------------------------------------------------------

    def all(self, partition: str | None = None) -> list[Document]:
        """Live documents (of one partition) in the order they were first written."""
        with self._lock:
            rows = sorted(
                (order, doc)
                for (part, _), (order, doc) in self._items.items()
                if (partition is None or part == partition) and not self._expired(doc)
            )
            return [copy.deepcopy(doc) for _, doc in rows]

    def _write(self, partition: str, document: Document) -> Document:
        stored = {k: v for k, v in copy.deepcopy(document).items() if k not in SYSTEM}
        stored["_etag"] = f'"{uuid.uuid4()}"'
        stored["_ts"] = int(self.clock().timestamp())
        key = (partition, str(stored["id"]))
        first = self._items.get(key)
        if first is None:
            self._written += 1
        order = first[0] if first else self._written
        stored["_rid"] = str(order)
        self._items[key] = (order, stored)
        return copy.deepcopy(stored)

    def _expired(self, document: Document) -> bool:
        ttl = document.get("ttl")
        if not isinstance(ttl, int) or ttl < 0:
            return False
        return self.clock().timestamp() >= int(document.get("_ts", 0)) + ttl


def store_order(document: Document) -> tuple[Any, ...]:
    """The store's own order: when each document was first written."""
    return (int(document["_rid"]),)


def page_of(
    rows: Iterable[Document],
    key: Key,
    limit: int,
    continuation: str | None,
    descending: bool = False,
) -> QueryPage:
    """One page of ``rows`` in ``key`` order, starting after the key ``continuation`` names."""
    ordered = sorted(rows, key=key, reverse=descending)
    if continuation is not None:
        last = tuple(json.loads(continuation))
        ordered = [r for r in ordered if (key(r) < last if descending else key(r) > last)]
    items = ordered[:limit]
    more = len(ordered) > limit
    return QueryPage(items, json.dumps(list(key(items[-1]))) if more else None)


def pages_of(
    rows: list[Document], key: Key, page_size: int, continuation: str | None
) -> Iterator[QueryPage]:
    while True:
        page = page_of(rows, key, page_size, continuation)
        yield page
        if page.continuation is None:
            return
        continuation = page.continuation


def text(value: Any) -> str:
    """A value as it sorts in a query: missing values first."""
    return "" if value is None else str(value)
