"""Disposal certificates, for the head of service: what was destroyed, when, under which rule.

Certificates outlive the families they describe and carry no personal data, so the only check
is the role. Newest first, a page at a time.
"""

from __future__ import annotations

from typing import Any

from shared.access import Caller, require_role
from shared.opaque import sealed_page
from shared.ports.runtime import Runtime
from shared.records.service import Listed
from shared.records.store import SYSTEM_FIELDS


def list_certificates(runtime: Runtime, caller: Caller, limit: int, token: str | None) -> Listed:
    require_role(caller, "HeadOfService")
    scope = f"disposals|{caller.principal.key}"
    items, following = sealed_page(
        runtime.signer, scope, token, lambda after: runtime.disposals.newest_first(limit, after)
    )
    return Listed(items, following)


def present_certificate(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in SYSTEM_FIELDS}
