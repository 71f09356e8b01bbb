"""Which SMS sender the settings choose: ACS in Azure, a local ACS test server, or the outbox."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.sms.outbox import DEFAULT_OUTBOX, OutboxSmsSender
from shared.sms.port import SmsSender

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.core.pipeline.transport import HttpTransport


def build_sms_sender(
    *,
    sender_id: str,
    acs_endpoint: str = "",
    acs_connection_string: str | None = None,
    acs_ca_certificate: str | None = None,
    managed_identity_client_id: str | None = None,
    outbox_path: Path = DEFAULT_OUTBOX,
    credential: TokenCredential | None = None,
    transport: Callable[..., HttpTransport[Any, Any]] | None = None,
) -> SmsSender:
    """ACS with identity when an endpoint is set (Azure), ACS with a key when a local connection
    string is set (test servers), else the local outbox. ``transport`` builds the ACS client's
    transport from azure-core's connection options."""
    if acs_endpoint or acs_connection_string:
        from shared.adapters.acs_sms import AcsSmsConfig, AcsSmsSender

        config = AcsSmsConfig(
            sender_id=sender_id,
            endpoint=acs_endpoint,
            connection_string=acs_connection_string,
            connection_verify=acs_ca_certificate or True,
            managed_identity_client_id=managed_identity_client_id,
        )
        return AcsSmsSender(config, credential, transport)
    return OutboxSmsSender(outbox_path, sender_id)
