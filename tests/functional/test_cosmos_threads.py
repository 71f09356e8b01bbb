"""Requests on other threads never steer a query: each thread's answers are its own.

Found by the load run: the Cosmos DB SDK keeps the last answer's headers on the client, which
every thread of an instance shares. A query page takes its continuation from there, and another
thread's request finishing in between made a list lose its next page; the same sharing made a
sync pull fail with 500 ("OrderedDict mutated during iteration") while another thread wrote
into the headers the query was copying.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from local.emulators import Emulators
from shared.bootstrap import get_runtime
from shared.ports import Listing
from tests.functional.world import World


@pytest.fixture
def another_request_finishes_mid_query(world: World) -> Iterator[None]:
    """Before a query's first page is read, a request on another thread finishes (a one-page
    query for the family's visit): what another invocation on the same instance may do at any
    moment."""
    from azure.cosmos._query_iterable import QueryIterable

    original = QueryIterable._unpack
    runtime = get_runtime()
    caller = threading.current_thread()

    def unpack(self: Any, block: Any) -> Any:
        if threading.current_thread() is caller and not getattr(self, "interrupted", False):
            self.interrupted = True
            visits = Listing(world.family, "visit", live=False)
            other = threading.Thread(target=runtime.records.list_page, args=(visits, 10, None))
            other.start()
            other.join()
        return original(self, block)

    QueryIterable._unpack = unpack  # type: ignore[method-assign]
    try:
        yield
    finally:
        QueryIterable._unpack = original  # type: ignore[method-assign]


def note_pages(world: World, limit: int) -> list[str]:
    notes, after = [], None
    while True:
        params = {"limit": str(limit), **({"next": after} if after else {})}
        page = world.api.get(
            f"/families/{world.family}/notes", world.token("social_worker"), params=params
        )
        assert page.status == 200, page.body
        notes += [item["id"] for item in page.body["items"]]
        after = page.body["next"]
        if not after:
            return notes


@pytest.mark.timeout(60)
def test_a_list_pages_through_every_record_while_other_threads_read(
    world: World, stack: Emulators, another_request_finishes_mid_query: None
) -> None:
    expected = {record for name, record in world.records.items() if name.startswith("note_")}
    assert len(expected) == 3  # one note of each visibility
    assert sorted(note_pages(world, limit=1)) == sorted(expected)
