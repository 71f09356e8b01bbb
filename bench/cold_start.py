"""Cold start: a fresh ``import function_app`` against a fresh ``import azure.functions``.

Runs both in new interpreters, interleaved, several times, and reports the medians and their
ratio. Target: ratio at most 1.5 (heavy SDKs are imported where used, not at module level).

Registering the endpoints imports no model and not pydantic: those load when a request first
needs them. So the report also shows what that costs, in the same run: a fresh import followed by
validating a note body (pydantic and the note models, as the first note request builds them).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.support import Row, format_table  # noqa: E402

REPETITIONS = 9
TARGET_RATIO = 1.5
IMPORT = "import function_app"
BASELINE = "import azure.functions"
FIRST_NOTE = (
    "import function_app\n"
    "from shared.records.kinds import NOTE\n"
    "NOTE.create.model_validate({'body': 'The visit went well.'})"
)


def wall_time(statement: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], cwd=ROOT, check=True)
    return time.perf_counter() - started


def measure() -> list[Row]:
    subjects: dict[str, list[float]] = {IMPORT: [], BASELINE: [], FIRST_NOTE: []}
    wall_time(FIRST_NOTE)  # warm the file-system cache and .pyc files once
    for _ in range(REPETITIONS):
        for statement, samples in subjects.items():
            samples.append(wall_time(statement))
    app, baseline, first_note = (statistics.median(samples) * 1000 for samples in subjects.values())
    return [
        Row(
            f"cold start: fresh `import function_app` vs `import azure.functions` "
            f"(median of {REPETITIONS})",
            app,
            "ms",
            baseline=baseline,
            target=f"ratio <= {TARGET_RATIO}",
            met=app / baseline <= TARGET_RATIO,
        ),
        Row(
            "cold start, then the first note body validated (pydantic and the note models load)",
            first_note,
            "ms",
            baseline=baseline,
        ),
    ]


def main() -> int:
    print(f"cold start, median of {REPETITIONS} fresh interpreters")
    print(format_table(measure()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
