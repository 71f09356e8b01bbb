"""Family sign-ins' link documents in the directory: one per sign-in, ``familylink:<tid>:<oid>``.

The document decides the sign-in's access (``shared.services.callers`` reads its memberships on
every request) and records its links (``shared.services.family_links`` lists and revokes them).
It holds:

- ``memberships``: ``{familyId: memberId}``, what access reads;
- ``links``: ``{familyId: {"id", "linkedAt"}}``, the link's opaque id and when it was made;
- ``linkedFamilies``: the families it is linked to, so a family's sign-ins are found with one
  indexed query (the directory is partitioned by id; this is its one query across partitions);
- ``lastSeenAt``: when the sign-in last called the API, written at most once an hour.

A sign-in linked before links were kept has ``memberships`` only. It is still found (the query
takes documents without ``linkedFamilies`` too, and filters them here), with an id derived from
its document and family and ``linkedAt`` its document's last write, and it gains the other
fields on its next request. Every change is an ETag-conditional replace of the document read.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.access import Caller
from shared.directory import family_link_id
from shared.errors import DependencyUnavailableError
from shared.ports.directory import Directory
from shared.ports.errors import AlreadyExistsError, StorageError, VersionMismatchError
from shared.ports.runtime import Clock
from shared.records.store import now_iso

SEEN_EVERY = timedelta(hours=1)
RETRIES = 10
LEGACY_IDS = uuid.UUID("6f1d2c3b-4a59-4e68-9d7c-0b1a2f3e4d5c")


@dataclass(frozen=True)
class Link:
    id: str
    family_id: str
    member_id: str
    linked_at: str
    last_seen_at: str | None
    profile_id: str


def link_sign_in(
    directory: Directory, clock: Clock, caller: Caller, family_id: str, member_id: str
) -> str:
    """Link the calling sign-in to the member (replacing any link it had to that family)."""
    principal = caller.principal
    profile_id = family_link_id(principal)
    link_id = str(uuid.uuid4())
    now = now_iso(clock())
    for _ in range(RETRIES):
        current = directory.read(profile_id)
        document = normalised(current or {"id": profile_id, "type": "familylink"})
        document["memberships"][family_id] = member_id
        document["links"][family_id] = {"id": link_id, "linkedAt": now}
        document |= {
            "tid": principal.tenant_id,
            "oid": principal.object_id,
            "linkedFamilies": sorted(document["memberships"]),
            "lastSeenAt": now,
        }
        try:
            if current is None:
                directory.create(document)
            else:
                directory.replace(document, str(current["_etag"]))
            return link_id
        except (VersionMismatchError, AlreadyExistsError):
            continue
    raise DependencyUnavailableError("The directory")


def family_sign_ins(directory: Directory, family_id: str) -> list[dict[str, Any]]:
    """The directory documents of every sign-in linked to the family."""
    found = directory.sign_ins_of(family_id)
    return [d for d in found if family_id in (d.get("memberships") or {})]


def links_of_member(directory: Directory, family_id: str, member_id: str) -> list[Link]:
    links = (link_of(profile, family_id) for profile in family_sign_ins(directory, family_id))
    return [link for link in links if link.member_id == member_id]


def unlink_family(directory: Directory, family_id: str) -> None:
    """Take the family from every sign-in linked to it (the family is being destroyed)."""
    for profile in family_sign_ins(directory, family_id):
        unlink(directory, link_of(profile, family_id))


def unlink(directory: Directory, link: Link) -> None:
    """Take the link's family from its sign-in, unless the sign-in was linked again since."""
    for _ in range(RETRIES):
        current = directory.read(link.profile_id)
        if current is None or link.family_id not in (current.get("memberships") or {}):
            return
        if link_of(current, link.family_id).id != link.id:
            return
        document = normalised(current)
        del document["memberships"][link.family_id]
        del document["links"][link.family_id]
        document["linkedFamilies"] = sorted(document["memberships"])
        try:
            directory.replace(document, str(current["_etag"]))
        except VersionMismatchError:
            continue
        return
    raise DependencyUnavailableError("The directory")


def note_seen(directory: Directory, clock: Clock, profile: Mapping[str, Any]) -> None:
    """Record that the sign-in called the API: at most one write an hour, and never one that
    could undo a concurrent revocation (the write is conditional on the document read)."""
    if not profile.get("memberships"):
        return
    now = clock()
    seen = profile.get("lastSeenAt")
    indexed = set(profile.get("linkedFamilies") or ()) == set(profile["memberships"])
    if indexed and seen and now - datetime.fromisoformat(str(seen)) < SEEN_EVERY:
        return
    document = normalised(profile)
    document |= {"linkedFamilies": sorted(document["memberships"]), "lastSeenAt": now_iso(now)}
    try:
        directory.replace(document, str(profile["_etag"]))
    except StorageError:
        return


def link_of(profile: Mapping[str, Any], family_id: str) -> Link:
    entry = normalised(profile)["links"][family_id]
    return Link(
        id=str(entry["id"]),
        family_id=family_id,
        member_id=str(profile["memberships"][family_id]),
        linked_at=str(entry["linkedAt"]),
        last_seen_at=profile.get("lastSeenAt"),
        profile_id=str(profile["id"]),
    )


def normalised(profile: Mapping[str, Any]) -> dict[str, Any]:
    """The document with a ``links`` entry for each membership (derived for older links)."""
    document = {k: v for k, v in profile.items() if not k.startswith("_")}
    memberships = dict(document.get("memberships") or {})
    links = {f: dict(v) for f, v in (document.get("links") or {}).items() if f in memberships}
    written = datetime.fromtimestamp(int(profile.get("_ts") or 0), UTC)
    for family_id in memberships:
        links.setdefault(
            family_id,
            {
                "id": str(uuid.uuid5(LEGACY_IDS, f"{document['id']}|{family_id}")),
                "linkedAt": now_iso(written),
            },
        )
    return document | {"memberships": memberships, "links": links}
