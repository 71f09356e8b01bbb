"""The directory container: staff profiles and family-member links, read by the caller's key."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.identity import Principal
from shared.storage_layout import DIRECTORY

if TYPE_CHECKING:
    from azure.cosmos import DatabaseProxy


def staff_profile_id(principal: Principal) -> str:
    return f"staff:{principal.key}"


def family_link_id(principal: Principal) -> str:
    return f"familylink:{principal.key}"


class Directory:
    def __init__(self, database: DatabaseProxy) -> None:
        self._container = database.get_container_client(DIRECTORY.name)

    def read(self, document_id: str) -> dict[str, Any] | None:
        from azure.cosmos.exceptions import CosmosResourceNotFoundError

        try:
            document: dict[str, Any] = self._container.read_item(document_id, document_id)
        except CosmosResourceNotFoundError:
            return None
        return document

    def profile_of(self, principal: Principal) -> dict[str, Any] | None:
        document_id = (
            staff_profile_id(principal) if principal.kind == "staff" else family_link_id(principal)
        )
        return self.read(document_id)
