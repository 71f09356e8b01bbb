"""Check a family's audit trail against its hash chain.

python -m local.audit verify --family <uuid> [--head SEQ:HASH]

Reads the Cosmos DB that local.settings.json (or the environment) names. ``--head`` is an anchor
kept outside the database (an export's manifest or a disposal certificate records one); with it,
events removed from the end of the chain are found too. Exit status 0: intact; 1: breaks found.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid

from shared.audit_chain import Head


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m local.audit", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="verify one family's audit chain")
    verify.add_argument("--family", required=True, type=uuid.UUID, help="the family id")
    verify.add_argument("--head", type=Head.parse, default=None, help="expected head, SEQ:HASH")
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    from local.config import apply_local_settings

    apply_local_settings()
    from shared.audit_chain import verify_chain
    from shared.bootstrap import get_runtime

    report = verify_chain(get_runtime().audit_store, str(args.family), args.head)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        head = f"{report.head.seq}:{report.head.hash}" if report.head else "none"
        print(f"family {report.family_id}: {report.events} events, head {head}")
        for problem in report.problems:
            print(f"  BREAK: {problem}")
        if report.problem_count > len(report.problems):
            print(f"  ... and {report.problem_count - len(report.problems)} more")
        print("intact" if report.ok else f"{report.problem_count} break(s) found")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
