"""Family sign-ins linked to members: made by redeeming an invitation, listed and revoked by staff.

A member may have several sign-ins (a parent's phone and tablet); each redemption links one more.
A sign-in's links live in one directory document (``shared.sign_ins``), which is also what
decides its access: the caller's memberships are read from it, with no cache, on every request
of that sign-in (``shared.services.callers``). So a revocation takes effect at once on every
instance, and a link is never listed apart from the access it gives. Nothing here ever shows a
token's claims: staff see ``id``, ``linkedAt`` and ``lastSeenAt``.

Revoking takes the family out of the document with an ETag-conditional replace, after its audit
event. The member record's ``identity`` (shown to staff as ``linked``) follows the remaining
links.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.access import Caller, FamilyAccess, require_role
from shared.errors import ForbiddenError, NotFoundError
from shared.ports.errors import VersionMismatchError
from shared.ports.runtime import Runtime
from shared.records.family_access import access_family
from shared.records.kinds import MEMBER
from shared.records.service import Listed, RecordService
from shared.sign_ins import Link, link_sign_in, links_of_member, unlink

RETRIES = 10
PREFIX = "familylink:"

__all__ = ["Link", "link_sign_in", "list_links", "present_link", "revoke_link"]


def present_link(link: Link) -> dict[str, str]:
    shown = {"id": link.id, "linkedAt": link.linked_at}
    if link.last_seen_at is not None and link.last_seen_at >= link.linked_at:
        shown["lastSeenAt"] = link.last_seen_at
    return shown


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
    found = links_of_member(runtime.directory, family_id, member_id)
    links = sorted(found, key=_order, reverse=True)
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
    links = links_of_member(runtime.directory, family_id, member_id)
    link = next((k for k in links if k.id == link_id), None)
    if link is None:
        raise NotFoundError("No such sign-in.")
    runtime.audit.record(caller, "revoke", family_id, "link", link_id)
    unlink(runtime.directory, link)
    _follow_links_on_member(runtime, member, link)


def _staff_access(runtime: Runtime, caller: Caller, family_id: str, action: str) -> FamilyAccess:
    access = access_family(runtime, caller, family_id, "link")
    if not access.is_staff:
        raise ForbiddenError(f"Only staff may {action}.")
    return access


def _order(link: Link) -> tuple[str, str]:
    return (link.linked_at, link.id)


def _follow_links_on_member(runtime: Runtime, member: dict[str, Any], revoked: Link) -> None:
    """Point the member's ``identity`` at a sign-in still linked, or drop it if none is."""
    remaining = links_of_member(runtime.directory, revoked.family_id, str(member["id"]))
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
