"""Check a family's audit trail against its seals, or seal new events now.

python -m local.audit verify --family <uuid> [--head SEQ:HASH] [--json]
python -m local.audit seal [--family <uuid>]

Reads the Cosmos DB, the anchors' Blob Storage and the seal key that local.settings.json (or the
environment) names. ``--head`` is a head recorded outside the database (an export's manifest or
a disposal certificate holds one); with it, a chain rewritten or cut short before that head is
found even if its anchors were lost. ``seal`` does now what the ``audit_seal`` timer does every
minute: every family with new events, or one. Exit status 0: intact (or sealed); 1: breaks.
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
    verify = commands.add_parser("verify", help="verify one family's sealed audit chain")
    verify.add_argument("--family", required=True, type=uuid.UUID, help="the family id")
    verify.add_argument("--head", type=Head.parse, default=None, help="expected head, SEQ:HASH")
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    seal = commands.add_parser("seal", help="seal new audit events now")
    seal.add_argument("--family", type=uuid.UUID, default=None, help="only this family")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    from local.config import apply_local_settings

    apply_local_settings()
    if args.command == "seal":
        return seal(args.family)
    return verify(args)


def seal(family: uuid.UUID | None) -> int:
    from shared.audit_seal import Sealer
    from shared.bootstrap import get_runtime

    runtime = get_runtime()
    sealer = Sealer(runtime.audit_store, runtime.audit_anchors, runtime.audit_key, runtime.clock)
    if family is not None:
        print(f"family {family}: {sealer.seal_family(str(family))} events sealed")
        return 0
    run = sealer.run()
    print(f"{run.events} events of {len(run.sealed)} families sealed in {run.seals} seals")
    return 0 if not run.failed else 1


def verify(args: argparse.Namespace) -> int:
    from shared.audit_chain import verify_chain
    from shared.bootstrap import get_runtime

    runtime = get_runtime()
    report = verify_chain(
        runtime.audit_store, runtime.audit_anchors, runtime.audit_key, str(args.family), args.head
    )
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
        return 0 if report.ok else 1
    head = f"{report.head.seq}:{report.head.hash}" if report.head else "none"
    print(f"family {report.family_id}: {report.events} events in {report.seals} seals, head {head}")
    for problem in report.problems:
        print(f"  BREAK: {problem}")
    if report.problem_count > len(report.problems):
        print(f"  ... and {report.problem_count - len(report.problems)} more")
    if report.pending:
        print(f"  pending: {report.pending} events not sealed yet (since {report.pending_since})")
    print("intact" if report.ok else f"{report.problem_count} break(s) found")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
