"""Short-lived SAS URLs for one blob each: write-only upload slots and read-only links.

In Azure the app holds no account key: it signs with a user delegation key, which its managed
identity obtains (Storage Blob Delegator) and which is cached until an hour before it expires.
Against Azurite, whose connection string carries the well-known development key, it signs with
the account key. Either way a URL names exactly one blob (``sr=b``), so it cannot list, read or
write any other.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared.adapters.faults import BLOB_STORAGE, translated
from shared.ports.media import SignedUrl

if TYPE_CHECKING:
    from azure.storage.blob import BlobServiceClient, UserDelegationKey

CLOCK_SKEW = timedelta(minutes=5)
DELEGATION_KEY_LIFETIME = timedelta(hours=24)
DELEGATION_KEY_MARGIN = timedelta(hours=1)


class BlobLinks:
    def __init__(self, service: BlobServiceClient, clock: Callable[[], datetime]) -> None:
        self.service = service
        self.clock = clock
        self._key: UserDelegationKey | None = None
        self._key_expiry: datetime | None = None
        self._lock = threading.Lock()

    def upload(self, container: str, blob: str, lifetime: timedelta) -> SignedUrl:
        """Create and write this one blob (Put Blob, or Put Block and Put Block List)."""
        from azure.storage.blob import BlobSasPermissions

        return self._sign(container, blob, BlobSasPermissions(create=True, write=True), lifetime)

    def read(
        self,
        container: str,
        blob: str,
        lifetime: timedelta,
        *,
        content_type: str,
        content_disposition: str,
    ) -> SignedUrl:
        """Read this one blob, served with the given Content-Type and Content-Disposition."""
        from azure.storage.blob import BlobSasPermissions

        return self._sign(
            container,
            blob,
            BlobSasPermissions(read=True),
            lifetime,
            content_type=content_type,
            content_disposition=content_disposition,
        )

    def _sign(
        self,
        container: str,
        blob: str,
        permission: Any,
        lifetime: timedelta,
        **headers: Any,
    ) -> SignedUrl:
        from azure.storage.blob import generate_blob_sas

        now = self.clock()
        expiry = now + lifetime
        client = self.service.get_blob_client(container, blob)
        account_key = getattr(self.service.credential, "account_key", None)
        signing: dict[str, Any] = (
            {"account_key": account_key}
            if account_key
            else {"user_delegation_key": self._delegation_key(now, expiry)}
        )
        token = generate_blob_sas(
            account_name=str(self.service.account_name),
            container_name=container,
            blob_name=blob,
            permission=permission,
            expiry=expiry,
            start=now - CLOCK_SKEW,
            protocol="https" if client.url.startswith("https://") else None,
            **signing,
            **headers,
        )
        return SignedUrl(f"{client.url}?{token}", expiry)

    def _delegation_key(self, now: datetime, expiry: datetime) -> UserDelegationKey:
        with self._lock:
            if (
                self._key is None
                or self._key_expiry is None
                or self._key_expiry - DELEGATION_KEY_MARGIN < expiry
            ):
                key_expiry = now + DELEGATION_KEY_LIFETIME
                with translated(BLOB_STORAGE):
                    self._key = self.service.get_user_delegation_key(now - CLOCK_SKEW, key_expiry)
                self._key_expiry = key_expiry
            return self._key
