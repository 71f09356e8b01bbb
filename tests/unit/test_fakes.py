"""The in-memory fakes keep the ports' promises: typed as the ports (mypy checks each one),
conditional writes, continuation paging and TTLs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.audit import AuditLog
from shared.ports import (
    AlreadyExistsError,
    AuditStore,
    BlobLinks,
    Counters,
    Directory,
    Disposals,
    Listing,
    MediaBlobs,
    Operations,
    PartnerGrants,
    RecordStore,
    Runtime,
    VersionMismatchError,
)
from shared.storage_layout import UPLOADS_CONTAINER
from tests.fakes import (
    FakeBlobLinks,
    FakeRuntime,
    InMemoryAudit,
    InMemoryCounters,
    InMemoryDirectory,
    InMemoryDisposals,
    InMemoryMediaBlobs,
    InMemoryOperations,
    InMemoryPartnerGrants,
    InMemoryRecords,
)


def test_every_fake_is_its_port() -> None:
    records: RecordStore = InMemoryRecords()
    audit: AuditStore = InMemoryAudit()
    directory: Directory = InMemoryDirectory()
    counters: Counters = InMemoryCounters()
    operations: Operations = InMemoryOperations()
    disposals: Disposals = InMemoryDisposals()
    blobs: MediaBlobs = InMemoryMediaBlobs()
    links: BlobLinks = FakeBlobLinks()
    grants: PartnerGrants = InMemoryPartnerGrants(InMemoryRecords())
    runtime: Runtime = FakeRuntime()
    assert isinstance(runtime.audit, AuditLog)
    assert all((records, audit, directory, counters, operations, disposals, blobs, links, grants))


def test_a_create_of_a_taken_id_fails_carrying_the_stored_record() -> None:
    records = InMemoryRecords()
    stored = records.create({"id": "n1", "familyId": "f1", "body": "first"})
    with pytest.raises(AlreadyExistsError) as taken:
        records.create({"id": "n1", "familyId": "f1", "body": "second"})
    assert taken.value.existing == stored


def test_a_replace_needs_the_version_read_and_each_write_makes_a_new_one() -> None:
    records = InMemoryRecords()
    first = records.create({"id": "n1", "familyId": "f1", "body": "v1"})
    second = records.replace({**first, "body": "v2"}, first["_etag"])
    assert second["_etag"] != first["_etag"]
    with pytest.raises(VersionMismatchError) as stale:
        records.replace({**first, "body": "v3"}, first["_etag"])
    assert stale.value.current == second


def test_what_a_reader_changes_is_not_stored() -> None:
    records = InMemoryRecords()
    records.create({"id": "n1", "familyId": "f1", "tags": ["a"]})
    (records.read("f1", "n1") or {})["tags"].append("b")
    assert (records.read("f1", "n1") or {})["tags"] == ["a"]


def test_a_page_resumes_after_its_last_item_whatever_was_written_between() -> None:
    runtime = FakeRuntime()
    records = runtime.records
    for n in range(4):
        records.create(
            {"id": f"n{n}", "familyId": "f1", "type": "note", "deleted": False,
             "createdAt": f"2026-12-01T10:0{n}:00.000Z"}
        )  # fmt: skip
    listing = Listing("f1", "note")
    first = records.list_page(listing, 2, None)
    records.create(
        {"id": "n9", "familyId": "f1", "type": "note", "deleted": False,
         "createdAt": "2026-12-01T11:00:00.000Z"}
    )  # fmt: skip
    second = records.list_page(listing, 2, first.continuation)

    assert [d["id"] for d in first.items] == ["n3", "n2"]
    assert [d["id"] for d in second.items] == ["n1", "n0"]
    assert second.continuation is None


def test_documents_with_a_ttl_are_gone_once_it_has_passed() -> None:
    runtime = FakeRuntime()
    operations = runtime.operations
    assert operations.claim("me", ["op1"], ttl_seconds=60) == {"op1"}
    operations.complete("me", {"op1": {"status": "applied"}}, ttl_seconds=60)
    assert operations.claim("me", ["op1", "op2"], ttl_seconds=60) == {"op2"}
    assert operations.results("me", ["op1", "op2"]) == {"op1": {"status": "applied"}}

    runtime.clock.advance(timedelta(seconds=60))

    assert operations.results("me", ["op1"]) == {}
    assert operations.claim("me", ["op1"], ttl_seconds=60) == {"op1"}


def test_a_leased_upload_is_deleted_only_under_its_lease() -> None:
    blobs = InMemoryMediaBlobs()
    blob = blobs.put_upload("f/m", b"bytes")
    lease = blobs.lease_upload("f/m", blob.etag, 60)
    assert lease is not None
    assert blobs.lease_upload("f/m", blob.etag, 60) is None

    blobs.discard_upload("f/m")
    assert blobs.names(UPLOADS_CONTAINER) == ["f/m"]
    blobs.discard_upload("f/m", blob.etag, lease)
    assert blobs.names(UPLOADS_CONTAINER) == []
