"""Print a bearer token of the local development issuer.

python -m local.token staff --oid <uuid> --role SocialWorker [--name "Sam Patel"]
python -m local.token staff --oid <uuid> --role Partner [--name "Dana Head"]   (a partner agency)
python -m local.token family --oid <uuid> [--phone +447700900123] [--email a@example.org]
"""

from __future__ import annotations

import argparse
import sys
import uuid
from typing import Any

from shared.identity import WORKFORCE_ROLES


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m local.token", description=__doc__.split("\n")[0]
    )
    kinds = parser.add_subparsers(dest="kind", required=True)
    staff = kinds.add_parser(
        "staff", help="a member of staff, or a partner agency's guest (workforce tenant)"
    )
    staff.add_argument("--role", action="append", required=True, choices=sorted(WORKFORCE_ROLES))
    family = kinds.add_parser("family", help="a family member (External ID tenant)")
    family.add_argument("--phone", help="verified phone number claim")
    family.add_argument("--email", help="verified email claim")
    for sub in (staff, family):
        sub.add_argument("--oid", required=True, type=uuid.UUID, help="the user's object id")
        sub.add_argument("--name", default=None, help="display name")
        sub.add_argument("--minutes", type=int, default=60, help="lifetime (default 60)")
    return parser.parse_args(argv)


def dev_claims(
    kind: str,
    oid: str,
    roles: list[str],
    name: str | None = None,
    phone: str | None = None,
    email: str | None = None,
) -> dict[str, Any]:
    """The claims of a local development token: Entra ID's for staff (``roles``), External ID's
    for a family member (verified phone and email when given)."""
    claims: dict[str, Any] = {"oid": oid, "sub": oid}
    if kind == "staff":
        claims["roles"] = roles
        claims["name"] = name or "Local " + " ".join(roles)
    else:
        claims["name"] = name or "Local family member"
        if phone:
            claims |= {"phone_number": phone, "phone_number_verified": True}
        if email:
            claims |= {"email": email, "email_verified": True}
    return claims


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    from local.config import apply_local_settings

    apply_local_settings()
    from shared.dev_issuer import issue_token
    from shared.settings import get_settings

    settings = get_settings()
    if not settings.dev_issuer_enabled:
        print("AUTH_DEV_ISSUER_ENABLED is not true in local.settings.json", file=sys.stderr)
        return 2
    claims = dev_claims(
        args.kind,
        str(args.oid),
        getattr(args, "role", None) or [],
        args.name,
        getattr(args, "phone", None),
        getattr(args, "email", None),
    )
    print(issue_token(settings, args.kind, claims, lifetime_seconds=args.minutes * 60))
    return 0


if __name__ == "__main__":
    sys.exit(main())
