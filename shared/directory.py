"""The directory container: staff profiles, family-member links, invitations, rate limits.

Each document is read by its own id (the caller's ``tid``+``oid``, a code's hash), so the
container is partitioned by ``/id``: every lookup on a request path is a point read. The one
query across partitions finds the sign-ins linked to a family, when staff list or revoke them
(``shared.services.family_links``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.identity import Principal
from shared.storage_layout import DIRECTORY

if TYPE_CHECKING:
    from azure.cosmos import ContainerProxy, DatabaseProxy


def staff_profile_id(tenant_id: str, object_id: str) -> str:
    return f"staff:{tenant_id}:{object_id}"


def family_link_id(principal: Principal) -> str:
    return f"familylink:{principal.key}"


def profile_id(principal: Principal) -> str:
    if principal.kind == "staff":
        return staff_profile_id(principal.tenant_id, principal.object_id)
    return family_link_id(principal)


class Directory:
    def __init__(self, database: DatabaseProxy) -> None:
        self.container: ContainerProxy = database.get_container_client(DIRECTORY.name)

    def read(self, document_id: str) -> dict[str, Any] | None:
        from azure.cosmos.exceptions import CosmosResourceNotFoundError

        try:
            document: dict[str, Any] = self.container.read_item(document_id, document_id)
        except CosmosResourceNotFoundError:
            return None
        return document

    def profile_of(self, principal: Principal) -> dict[str, Any] | None:
        return self.read(profile_id(principal))
