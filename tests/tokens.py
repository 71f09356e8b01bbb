"""Tokens for tests, from the development issuer the test settings enable."""

from __future__ import annotations

import uuid
from typing import Any

from shared.dev_issuer import issue_token
from shared.settings import get_settings


def staff_token(*roles: str, oid: str | None = None, name: str = "Sam Patel", **claims: Any) -> str:
    payload = {"oid": oid or str(uuid.uuid4()), "roles": list(roles), "name": name, **claims}
    return issue_token(get_settings(), "staff", payload)


def family_token(oid: str | None = None, name: str = "Alex Jones", **claims: Any) -> str:
    payload = {"oid": oid or str(uuid.uuid4()), "name": name, **claims}
    return issue_token(get_settings(), "family", payload)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
