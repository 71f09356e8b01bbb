"""Run the records disposal now, as the timer does, and print what it did.

python -m local.retention dispose

Reads the Cosmos DB and storage that local.settings.json (or the environment) names.
"""

from __future__ import annotations

import argparse
import json
import sys


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m local.retention", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("dispose", help="withdraw, destroy and purge what is due")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    parse(argv)
    from local.config import apply_local_settings

    apply_local_settings()
    from shared.bootstrap import get_runtime
    from shared.retention.disposal import Disposer

    report = Disposer(get_runtime()).run()
    print(json.dumps(report.as_dict(), indent=2))
    return 0 if report.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
