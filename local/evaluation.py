"""Recount the pilot evaluation's weekly figures from the records.

python -m local.evaluation rebuild --from 2026-09-07 --to 2026-12-06
python -m local.evaluation update

``rebuild`` recounts every team's ISO weeks with a day in the range (after a correction, a
family's transfer between teams, or a new measure); ``update`` runs the hourly timer's work once.
Reads and writes the Cosmos DB that local.settings.json (or the environment) names: locally the
emulator; against a borough's account, set ``COSMOS__accountEndpoint`` and ``COSMOS_DATABASE``
and sign in (``az login``) as someone with the Cosmos DB data contributor role.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m local.evaluation", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    rebuild = commands.add_parser("rebuild", help="recount every team's weeks in a date range")
    rebuild.add_argument("--from", dest="first", required=True, type=date.fromisoformat)
    rebuild.add_argument("--to", dest="last", required=True, type=date.fromisoformat)
    commands.add_parser("update", help="count what changed since the last run, once")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.command == "rebuild" and args.last < args.first:
        print("--to is before --from", file=sys.stderr)
        return 2
    from local.config import apply_local_settings

    apply_local_settings()
    from shared.bootstrap import get_runtime
    from shared.evaluation import service as evaluation

    runtime = get_runtime()
    if args.command == "rebuild":
        report = evaluation.rebuild(runtime, args.first, args.last)
    else:
        report = evaluation.update(runtime)
    print(json.dumps({"teams": len(report.teams), "teamWeeks": report.team_weeks,
                      "changes": report.changed}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
