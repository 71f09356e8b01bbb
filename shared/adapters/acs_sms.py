"""Azure Communication Services SMS through the ``azure-communication-sms`` SDK.

In Azure the client signs in with the app's managed identity (``DefaultAzureCredential``) at the
resource endpoint. A connection string (endpoint and access key, HMAC-signed requests) is for
local test servers only. Every text asks for a delivery report, with a tag that leads back to
the notification claim.

The SDK builds a fresh repeatability id for every ``send`` call, so ACS only de-duplicates the
SDK's own retries of one call; the caller's claims stop a second call for the same text. The
SDK retries 500, 503 and 504 for POST (with the same repeatability id), never a response that
was lost: that surfaces as ``SmsOutcomeUnknownError``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.sms.port import (
    SendResult,
    SmsOutcomeUnknownError,
    SmsPermanentError,
    SmsTransientError,
)

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.core.pipeline.transport import HttpTransport

RETRYABLE_STATUSES = frozenset({401, 403, 408, 429})


@dataclass(frozen=True)
class AcsSmsConfig:
    """How to reach ACS. Give ``endpoint`` (identity) or ``connection_string`` (local only)."""

    sender_id: str
    endpoint: str = ""
    connection_string: str | None = None
    connection_verify: str | bool = True
    managed_identity_client_id: str | None = None
    retry_total: int = 2
    connection_timeout_seconds: float = 5
    read_timeout_seconds: float = 20

    def __post_init__(self) -> None:
        if not self.sender_id:
            raise ValueError("An SMS sender id (alphanumeric or a number) is required.")
        if not self.endpoint and not self.connection_string:
            raise ValueError("An ACS endpoint or a local connection string is required.")


class AcsSmsSender:
    def __init__(
        self,
        config: AcsSmsConfig,
        credential: TokenCredential | None = None,
        transport: Callable[..., HttpTransport[Any, Any]] | None = None,
    ) -> None:
        """``transport``, when given, builds the client's transport from azure-core's connection
        options (the client passes them to the transport it builds itself otherwise)."""
        self._config = config
        self._credential = credential
        self._transport = transport
        self._client: Any = None
        self._lock = threading.Lock()

    def send(self, to_e164: str, text: str, tag: str) -> SendResult:
        from azure.core.exceptions import (
            AzureError,
            HttpResponseError,
            ServiceRequestError,
            ServiceResponseError,
        )

        try:
            results = self._sms_client().send(
                from_=self._config.sender_id,
                to=[to_e164],
                message=text,
                enable_delivery_report=True,
                tag=tag,
            )
        except ServiceRequestError as error:
            raise SmsTransientError(f"ACS unreachable: {type(error).__name__}") from error
        except ServiceResponseError as error:
            raise SmsOutcomeUnknownError(f"no answer from ACS: {type(error).__name__}") from error
        except HttpResponseError as error:
            raise _classify(error.status_code, "ACS") from error
        except AzureError as error:
            raise SmsOutcomeUnknownError(f"ACS call failed: {type(error).__name__}") from error
        if len(results) != 1:
            raise SmsOutcomeUnknownError(f"ACS answered with {len(results)} results for one")
        result = results[0]
        if not result.successful or not result.message_id:
            raise _classify(result.http_status_code, "ACS recipient")
        return SendResult(message_id=str(result.message_id), to=str(result.to or to_e164))

    def _sms_client(self) -> Any:
        """The SDK client, built on first use (its type comments do not type-check)."""
        with self._lock:
            if self._client is None:
                self._client = self._build_client()
            return self._client

    def _build_client(self) -> Any:
        from azure.communication.sms import SmsClient

        config = self._config
        connection: dict[str, Any] = {
            "connection_verify": config.connection_verify,
            "connection_timeout": config.connection_timeout_seconds,
            "read_timeout": config.read_timeout_seconds,
        }
        options: dict[str, Any] = {
            **connection,
            "retry_total": config.retry_total,
            "retry_backoff_factor": 0.5,
        }
        if self._transport is not None:
            options["transport"] = self._transport(**connection)
        if config.connection_string:
            client_type: Any = SmsClient
            return client_type.from_connection_string(config.connection_string, **options)
        credential = self._credential
        if credential is None:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential(
                managed_identity_client_id=config.managed_identity_client_id
            )
        return SmsClient(config.endpoint, credential, **options)


def _classify(status: int | None, where: str) -> SmsTransientError | SmsPermanentError:
    reason = f"{where} answered {status}"
    if status is None or status >= 500 or status in RETRYABLE_STATUSES:
        return SmsTransientError(reason)
    return SmsPermanentError(reason)
