"""Queries on a Cosmos DB container: every page, one page, or the pages from a continuation."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from shared.adapters.faults import COSMOS_DB, translated
from shared.ports.records import Document, QueryPage

if TYPE_CHECKING:
    from shared.adapters.cosmos import ContainerProxy


def _parameters(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"name": name, "value": value} for name, value in values.items()]


def _scope(partition_key: str | None) -> dict[str, Any]:
    if partition_key is None:
        return {"enable_cross_partition_query": True}
    return {"partition_key": partition_key}


def query(
    container: ContainerProxy,
    text: str,
    parameters: Mapping[str, Any],
    partition_key: str | None = None,
    page_size: int | None = None,
) -> Iterator[Any]:
    """Every row, read a page at a time as they are consumed."""
    options = _scope(partition_key)
    if page_size is not None:
        options["max_item_count"] = page_size
    with translated(COSMOS_DB):
        yield from container.query_items(text, parameters=_parameters(parameters), **options)


def query_all(
    container: ContainerProxy,
    text: str,
    parameters: Mapping[str, Any],
    partition_key: str | None = None,
) -> list[Any]:
    return list(query(container, text, parameters, partition_key))


def first_page(
    container: ContainerProxy,
    text: str,
    parameters: Mapping[str, Any],
    partition_key: str | None,
    limit: int,
    continuation: str | None,
) -> QueryPage:
    """One page (across partitions when ``partition_key`` is None); empty pages with more to
    come are skipped."""
    with translated(COSMOS_DB):
        pager: Any = container.query_items(
            text, parameters=_parameters(parameters), max_item_count=limit, **_scope(partition_key)
        ).by_page(continuation)
        items: list[Document] = []
        for page in pager:
            items = list(page)
            if items:
                break
        return QueryPage(items, pager.continuation_token if items else None)


def pages(
    container: ContainerProxy,
    text: str,
    parameters: Mapping[str, Any],
    partition_key: str | None,
    page_size: int,
    continuation: str | None,
) -> Iterator[QueryPage]:
    """Each page from ``continuation`` on, with the continuation after it (None after the last)."""
    with translated(COSMOS_DB):
        pager: Any = container.query_items(
            text,
            parameters=_parameters(parameters),
            max_item_count=page_size,
            **_scope(partition_key),
        ).by_page(continuation)
        for page in pager:
            items = list(page)
            yield QueryPage(items, pager.continuation_token)


def family_ids_page(
    container: ContainerProxy, family_id: str, limit: int, keep: str | None = None
) -> list[str]:
    """Up to ``limit`` ids of one family's partition (``keep`` left out): a page to delete."""
    text = "SELECT VALUE c.id FROM c WHERE c.familyId = @familyId"
    parameters: dict[str, Any] = {"@familyId": family_id}
    if keep is not None:
        text += " AND c.id != @keep"
        parameters["@keep"] = keep
    first = next(pages(container, text, parameters, family_id, limit, None), None)
    return [str(row) for row in first.items] if first else []
