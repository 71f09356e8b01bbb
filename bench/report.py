"""The benchmark report: every script in ``bench/`` in one table, with the machine it ran on.

Runs ``measure()`` of each benchmark module (every ``bench/*.py`` but this one, ``support`` and
``__init__``; a module without ``measure()`` is skipped with a note) in its own interpreter, so
that the settings and runtime one sets up never reach the next. Prints one aligned table
(``--markdown``: a GitHub table, as in the README) and exits non-zero when a target is missed or a
benchmark fails. Progress of the benchmarks goes to stderr, the report to stdout.

    python bench/report.py [--markdown] [name ...]
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.support import Row, format_markdown, format_table, missed  # noqa: E402

BENCH = Path(__file__).resolve().parent
NOT_BENCHMARKS = frozenset({"__init__", "support", "report"})
# The order of the table: these first, as the README explains them, then any other by name.
FIRST = ("cold_start", "requests_per_call", "sync", "reminders", "media")


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed or missed(self.rows) else 0


def discover(folder: Path = BENCH) -> list[str]:
    """The benchmark modules in ``folder``, by name: those of ``FIRST`` in its order, then the
    rest alphabetically."""
    names = [
        path.stem
        for path in folder.glob("*.py")
        if path.stem not in NOT_BENCHMARKS and not path.stem.startswith("_")
    ]
    return sorted(
        names, key=lambda name: (FIRST.index(name) if name in FIRST else len(FIRST), name)
    )


def defines_measure(path: Path) -> bool:
    """Whether a module defines ``measure`` at its top level (read, not imported)."""
    return "measure" in top_level_names(ast.parse(path.read_text(), str(path)))


def top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom | ast.Import):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def rows_to_json(rows: list[Row]) -> str:
    return json.dumps([dataclasses.asdict(row) for row in rows])


def rows_from_json(text: str) -> list[Row]:
    loaded: list[dict[str, Any]] = json.loads(text)
    return [Row(**fields) for fields in loaded]


def run_child(name: str, output: Path) -> None:
    """Inside the benchmark's own interpreter: measure, and write the rows to ``output``."""
    module = importlib.import_module(f"bench.{name}")
    rows = module.measure()
    if not isinstance(rows, list) or not all(isinstance(row, Row) for row in rows):
        raise TypeError(f"bench/{name}.py: measure() must return a list of Row")
    output.write_text(rows_to_json(rows))


def run_benchmark(name: str) -> list[Row] | None:
    """The rows of one benchmark, measured in a fresh interpreter; None when it failed."""
    with tempfile.TemporaryDirectory(prefix="bench-report-") as folder:
        output = Path(folder) / "rows.json"
        completed = subprocess.run(
            [sys.executable, "-m", "bench.report", "--child", name, str(output)],
            cwd=ROOT,
            stdout=sys.stderr,
            check=False,
        )
        if completed.returncode != 0 or not output.exists():
            return None
        return rows_from_json(output.read_text())


def collect(names: list[str], folder: Path = BENCH) -> Report:
    report = Report()
    for name in names:
        if not defines_measure(folder / f"{name}.py"):
            report.notes.append(f"bench/{name}.py has no measure(); skipped")
            continue
        print(f"== bench/{name}.py", file=sys.stderr, flush=True)
        rows = run_benchmark(name)
        if rows is None:
            report.failed.append(name)
            report.notes.append(f"bench/{name}.py failed; its rows are missing")
        else:
            report.rows.extend(rows)
    return report


def machine() -> str:
    """The machine and the moment of the run, on one line, with the load average when the run
    began (other work on the machine slows the timed figures)."""
    return (
        f"{cpu_model()}, {os.cpu_count()} CPUs, {memory_gib():.1f} GiB, "
        f"Python {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"load average {os.getloadavg()[0]:.1f}"
    )


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def render(report: Report, header: str, markdown: bool = False) -> str:
    """The header line, the table, then the notes and the missed targets."""
    table = format_markdown(report.rows) if markdown else format_table(report.rows)
    lines = [f"Machine: {header}", "", table]
    footer = [*report.notes]
    footer += [f"target missed: {row.measure} ({row.target})" for row in missed(report.rows)]
    if footer:
        lines.append("")
        lines.extend(f"- {note}" if markdown else note for note in footer)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--markdown", action="store_true", help="print a GitHub markdown table")
    parser.add_argument("--child", nargs=2, metavar=("NAME", "OUTPUT"), help=argparse.SUPPRESS)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all of bench/)")
    args = parser.parse_args(argv)
    if args.child:
        run_child(args.child[0], Path(args.child[1]))
        return 0
    available = discover()
    unknown = sorted(set(args.names) - set(available))
    if unknown:
        parser.error(f"no benchmark named {', '.join(unknown)} (have: {', '.join(available)})")
    header = machine()
    report = collect(args.names or available)
    print(render(report, header, markdown=args.markdown))
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
