"""Family sign-ins linked to members: made by redeeming an invitation, listed and revoked by staff.

A member may have several sign-ins (a parent's phone and tablet); each redemption links one more.
A sign-in's links live in one directory document, ``familylink:<tid>:<oid>``, which is also what
decides its access: the caller's memberships are read from it, with no cache, on every request
of that sign-in (``shared.services.callers``). So a revocation takes effect at once on every
instance, and a link is never listed apart from the access it gives. The document holds:

- ``memberships``: ``{familyId: memberId}``, what access reads;
- ``links``: ``{familyId: {"id", "linkedAt"}}``, the link's opaque id and when it was made;
- ``linkedFamilies``: the families it is linked to, so staff find a member's sign-ins with one
  indexed query (the directory is partitioned by id; this is its one query across partitions);
- ``lastSeenAt``: when the sign-in last called the API, written at most once an hour.

A sign-in linked before links were kept has ``memberships`` only. It is still found (the query
takes documents without ``linkedFamilies`` too, and filters them here), with an id derived from
its document and family and ``linkedAt`` its document's last write, and it gains the other
fields on its next request. Nothing here ever shows a token's claims: staff see ``id``,
``linkedAt`` and ``lastSeenAt``.

Revoking takes the family out of the document with an ETag-conditional replace, after its audit
event. The member record's ``identity`` (shown to staff as ``linked``) follows the remaining
links.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.access import Caller, FamilyAccess, require_role
from shared.composition import Runtime
from shared.directory import family_link_id
from shared.errors import DependencyUnavailableError, ForbiddenError, NotFoundError
from shared.records.kinds import MEMBER
from shared.records.service import Listed, RecordService
from shared.records.store import VersionMismatchError, now_iso
from shared.services.callers import access_family

SEEN_EVERY = timedelta(hours=1)
RETRIES = 10
LEGACY_IDS = uuid.UUID("6f1d2c3b-4a59-4e68-9d7c-0b1a2f3e4d5c")
PREFIX = "familylink:"


@dataclass(frozen=True)
class Link:
    id: str
    family_id: str
    member_id: str
    linked_at: str
    last_seen_at: str | None
    profile_id: str


def present_link(link: Link) -> dict[str, str]:
    shown = {"id": link.id, "linkedAt": link.linked_at}
    if link.last_seen_at is not None and link.last_seen_at >= link.linked_at:
        shown["lastSeenAt"] = link.last_seen_at
    return shown


def link_sign_in(runtime: Runtime, caller: Caller, family_id: str, member_id: str) -> str:
    """Link the calling sign-in to the member (replacing any link it had to that family)."""
    from azure.cosmos.exceptions import CosmosAccessConditionFailedError, CosmosResourceExistsError

    principal = caller.principal
    profile_id = family_link_id(principal)
    link_id = str(uuid.uuid4())
    now = now_iso(runtime.clock())
    for _ in range(RETRIES):
        current = runtime.directory.read(profile_id)
        document = _normalised(current or {"id": profile_id, "type": "familylink"})
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
                runtime.directory.container.create_item(document)
            else:
                _replace(runtime, document, str(current["_etag"]))
            return link_id
        except (CosmosAccessConditionFailedError, CosmosResourceExistsError):
            continue
    raise DependencyUnavailableError("The directory")


def list_links(
    runtime: Runtime,
    caller: Caller,
    family_id: str,
    member_id: str,
    limit: int,
    token: str | None,
) -> Listed:
    """A member's sign-ins, newest link first, for staff with access to the family."""
    access = _staff_access(runtime, caller, family_id, "see a member's sign-ins")
    RecordService(runtime).find(access, MEMBER, member_id)
    scope = f"links|{caller.principal.key}|{family_id}|{member_id}"
    links = sorted(_member_links(runtime, family_id, member_id), key=_order, reverse=True)
    if token:
        after = [str(part) for part in runtime.signer.open(scope, token).get("after") or ()]
        links = [link for link in links if list(_order(link)) < after]
    page, more = links[:limit], len(links) > limit
    runtime.audit.record(caller, "list", family_id, "link", member_id)
    following = runtime.signer.seal(scope, {"after": list(_order(page[-1]))}) if more else None
    return Listed([present_link(link) for link in page], following)


def revoke_link(
    runtime: Runtime, caller: Caller, family_id: str, member_id: str, link_id: str
) -> None:
    """Take the family from one sign-in, at once; every revocation is an audit event."""
    access = _staff_access(runtime, caller, family_id, "revoke a sign-in")
    require_role(caller, "SocialWorker", "TeamManager", "HeadOfService")
    member = RecordService(runtime).find(access, MEMBER, member_id)
    link = next((k for k in _member_links(runtime, family_id, member_id) if k.id == link_id), None)
    if link is None:
        raise NotFoundError("No such sign-in.")
    runtime.audit.record(caller, "revoke", family_id, "link", link_id)
    _unlink(runtime, link)
    _follow_links_on_member(runtime, member, link)


def family_sign_ins(runtime: Runtime, family_id: str) -> list[dict[str, Any]]:
    """The directory documents of every sign-in linked to the family."""
    query = (
        "SELECT * FROM c WHERE c.type = 'familylink' AND "
        "(ARRAY_CONTAINS(c.linkedFamilies, @family) OR NOT IS_DEFINED(c.linkedFamilies))"
    )
    found = runtime.directory.container.query_items(
        query,
        parameters=[{"name": "@family", "value": family_id}],
        enable_cross_partition_query=True,
    )
    return [d for d in found if family_id in (d.get("memberships") or {})]


def unlink_family(runtime: Runtime, family_id: str) -> None:
    """Take the family from every sign-in linked to it (the family is being destroyed)."""
    for profile in family_sign_ins(runtime, family_id):
        _unlink(runtime, _link_of(profile, family_id))


def note_seen(runtime: Runtime, profile: Mapping[str, Any]) -> None:
    """Record that the sign-in called the API: at most one write an hour, and never one that
    could undo a concurrent revocation (the write is conditional on the document read)."""
    from azure.core.exceptions import AzureError

    if not profile.get("memberships"):
        return
    now = runtime.clock()
    seen = profile.get("lastSeenAt")
    indexed = set(profile.get("linkedFamilies") or ()) == set(profile["memberships"])
    if indexed and seen and now - datetime.fromisoformat(str(seen)) < SEEN_EVERY:
        return
    document = _normalised(profile)
    document |= {"linkedFamilies": sorted(document["memberships"]), "lastSeenAt": now_iso(now)}
    try:
        _replace(runtime, document, str(profile["_etag"]))
    except AzureError:
        return


def _staff_access(runtime: Runtime, caller: Caller, family_id: str, action: str) -> FamilyAccess:
    access = access_family(runtime, caller, family_id, "link")
    if not access.is_staff:
        raise ForbiddenError(f"Only staff may {action}.")
    return access


def _member_links(runtime: Runtime, family_id: str, member_id: str) -> list[Link]:
    links = (_link_of(profile, family_id) for profile in family_sign_ins(runtime, family_id))
    return [link for link in links if link.member_id == member_id]


def _link_of(profile: Mapping[str, Any], family_id: str) -> Link:
    entry = _normalised(profile)["links"][family_id]
    return Link(
        id=str(entry["id"]),
        family_id=family_id,
        member_id=str(profile["memberships"][family_id]),
        linked_at=str(entry["linkedAt"]),
        last_seen_at=profile.get("lastSeenAt"),
        profile_id=str(profile["id"]),
    )


def _order(link: Link) -> tuple[str, str]:
    return (link.linked_at, link.id)


def _normalised(profile: Mapping[str, Any]) -> dict[str, Any]:
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


def _unlink(runtime: Runtime, link: Link) -> None:
    from azure.cosmos.exceptions import CosmosAccessConditionFailedError

    for _ in range(RETRIES):
        current = runtime.directory.read(link.profile_id)
        if current is None or link.family_id not in (current.get("memberships") or {}):
            return
        if _link_of(current, link.family_id).id != link.id:
            return
        document = _normalised(current)
        del document["memberships"][link.family_id]
        del document["links"][link.family_id]
        document["linkedFamilies"] = sorted(document["memberships"])
        try:
            _replace(runtime, document, str(current["_etag"]))
        except CosmosAccessConditionFailedError:
            continue
        return
    raise DependencyUnavailableError("The directory")


def _follow_links_on_member(runtime: Runtime, member: dict[str, Any], revoked: Link) -> None:
    """Point the member's ``identity`` at a sign-in still linked, or drop it if none is."""
    remaining = _member_links(runtime, revoked.family_id, str(member["id"]))
    current: dict[str, Any] | None = member
    for _ in range(RETRIES):
        if current is None or current.get("deleted"):
            return
        identity = current.get("identity") or {}
        if remaining and _profile_of(identity) in {link.profile_id for link in remaining}:
            return
        updated = {k: v for k, v in current.items() if k != "identity"}
        newest = max(remaining, key=_order) if remaining else None
        if newest is not None:
            updated["identity"] = _identity_of(newest.profile_id)
        elif "identity" not in current:
            return
        try:
            runtime.records.replace(updated, str(current["_etag"]))
            return
        except VersionMismatchError as changed:
            current = changed.current


def _profile_of(identity: Mapping[str, Any]) -> str:
    return f"{PREFIX}{identity.get('tid')}:{identity.get('oid')}"


def _identity_of(profile_id: str) -> dict[str, str]:
    tid, _, oid = profile_id.removeprefix(PREFIX).partition(":")
    return {"tid": tid, "oid": oid}


def _replace(runtime: Runtime, document: dict[str, Any], etag: str) -> None:
    from azure.core import MatchConditions

    runtime.directory.container.replace_item(
        document["id"], document, etag=etag, match_condition=MatchConditions.IfNotModified
    )
