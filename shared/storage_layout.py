"""The Cosmos DB containers and blob containers the app uses: one source of truth.

The local provisioner creates exactly these, and the infrastructure tests compare them with the
Bicep, so a container, partition key or index is never declared in two places that can drift.

- ``records``: case records (families, members, visits, agendas, notes, plans, comments, media,
  notification claims), partitioned by family so a family's story is one logical partition.
- ``audit``: append-only audit events, partitioned by family like the records they describe.
- ``directory``: staff profiles, teams, family-member links, invitations and rate-limit counters.
  Each is read by its own id (the caller's ``tid``+``oid``, an invitation code's hash) on every
  request, so the partition key is the id: point reads, and no hot partition. Per-item TTL
  expires invitations and counters.
- ``sync``: applied sync operations (claims, then results kept for replays) and the family sets
  sync tokens name, expiring by per-item TTL. Partitioned by ``/pk``: a caller's operations share
  one partition (``op:<tid>:<oid>``), so a push claims all of its operations in one transactional
  batch and stores their results in another; a family set is a partition of its own. (It
  replaced the ``operations`` container, partitioned by ``/id``, whose claims cost one request
  each: a partition key cannot change, so the container is new.)
- ``audit`` also holds each family's audit seals (``shared.audit_chain``) beside its events.
- ``disposals``: disposal certificates, one per disposed family (id = the family id), kept for
  good: they must outlive the family's partition in ``records`` and ``audit``, so they live in
  neither. They hold counts, dates and rules, no personal data.
- ``evaluation``: the pilot evaluation's weekly aggregates, one document per team and ISO week
  (id ``<teamId>:<week>``), partitioned by team, plus the updater's watermark. Counts only; they
  are rebuilt from the records whenever asked (``python -m local.evaluation rebuild``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CosmosContainer:
    name: str
    partition_key: str
    indexing_policy: dict[str, Any]
    default_ttl: int | None = None
    unique_keys: list[list[str]] = field(default_factory=list)


def _composite(*paths: tuple[str, str]) -> list[dict[str, str]]:
    return [{"path": path, "order": order} for path, order in paths]


RECORDS = CosmosContainer(
    name="records",
    partition_key="/familyId",
    indexing_policy={
        "indexingMode": "consistent",
        "automatic": True,
        "includedPaths": [{"path": "/*"}],
        "excludedPaths": [
            {"path": "/body/?"},
            {"path": "/transcript/*"},
            {"path": "/snapshot/*"},
            {"path": '/"_etag"/?'},
        ],
        "compositeIndexes": [
            _composite(("/createdAt", "descending"), ("/id", "descending")),
            _composite(("/createdAt", "ascending"), ("/id", "ascending")),
            _composite(("/_ts", "ascending"), ("/id", "ascending")),
        ],
    },
)

AUDIT = CosmosContainer(
    name="audit",
    partition_key="/familyId",
    indexing_policy={
        "indexingMode": "consistent",
        "automatic": True,
        "includedPaths": [{"path": "/*"}],
        "excludedPaths": [{"path": '/"_etag"/?'}],
        "compositeIndexes": [
            _composite(("/at", "descending"), ("/id", "descending")),
        ],
    },
)

DIRECTORY = CosmosContainer(
    name="directory",
    partition_key="/id",
    indexing_policy={
        "indexingMode": "consistent",
        "automatic": True,
        "includedPaths": [{"path": "/*"}],
        "excludedPaths": [{"path": '/"_etag"/?'}],
    },
    default_ttl=-1,
)

SYNC = CosmosContainer(
    name="sync",
    partition_key="/pk",
    indexing_policy={
        "indexingMode": "consistent",
        "automatic": True,
        "includedPaths": [],
        "excludedPaths": [{"path": "/*"}],
    },
    default_ttl=-1,
)

DISPOSALS = CosmosContainer(
    name="disposals",
    partition_key="/id",
    indexing_policy={
        "indexingMode": "consistent",
        "automatic": True,
        "includedPaths": [{"path": "/*"}],
        "excludedPaths": [{"path": '/"_etag"/?'}],
    },
)

EVALUATION = CosmosContainer(
    name="evaluation",
    partition_key="/teamId",
    indexing_policy={
        "indexingMode": "consistent",
        "automatic": True,
        "includedPaths": [{"path": "/teamId/?"}, {"path": "/week/?"}, {"path": "/type/?"}],
        "excludedPaths": [{"path": "/*"}],
    },
)

COSMOS_CONTAINERS: tuple[CosmosContainer, ...] = (
    RECORDS,
    AUDIT,
    DIRECTORY,
    SYNC,
    DISPOSALS,
    EVALUATION,
)

UPLOADS_CONTAINER = "uploads"
ORIGINALS_CONTAINER = "originals"
DERIVATIVES_CONTAINER = "derivatives"
BLOB_CONTAINERS: tuple[str, ...] = (UPLOADS_CONTAINER, ORIGINALS_CONTAINER, DERIVATIVES_CONTAINER)

AUDIT_ANCHORS_CONTAINER = "audit-anchors"
"""One append blob per family and month, a line per audit seal (``shared.audit_seal``). In Azure
the container has a time-based immutability policy (WORM, appends allowed): nothing in it can be
changed or deleted while the policy holds, by the app or anyone else. It is not a media
container: disposal leaves it alone (its lines name no person, only the family's id)."""

UPLOAD_EVENTS_QUEUE = "media-uploads"
"""Event Grid delivers the ``uploads`` container's blob-created events here (endpoint type
``StorageQueue``, in the media storage account); the queue-triggered ``media_process_upload``
takes them from it, so processing never runs inside an Event Grid delivery."""
UPLOAD_EVENTS_POISON_QUEUE = f"{UPLOAD_EVENTS_QUEUE}-poison"
"""Where the Functions host moves a message after ``maxDequeueCount`` failed runs."""
STORAGE_QUEUES: tuple[str, ...] = (UPLOAD_EVENTS_QUEUE, UPLOAD_EVENTS_POISON_QUEUE)
