"""Cold start: a fresh ``import function_app`` against a fresh ``import azure.functions``.

Runs both in new interpreters, interleaved, several times, and reports the medians and their
ratio. Target: ratio at most 2.0 (heavy SDKs are imported where used, not at module level).
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
TARGET_RATIO = 2.0


def wall_time(statement: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], cwd=ROOT, check=True)
    return time.perf_counter() - started


def measure() -> list[Row]:
    subjects: dict[str, list[float]] = {"import function_app": [], "import azure.functions": []}
    wall_time("import function_app")  # warm the file-system cache and .pyc files once
    for _ in range(REPETITIONS):
        for statement, samples in subjects.items():
            samples.append(wall_time(statement))
    app, baseline = (statistics.median(samples) * 1000 for samples in subjects.values())
    return [
        Row(
            f"cold start: fresh `import function_app` vs `import azure.functions` "
            f"(median of {REPETITIONS})",
            app,
            "ms",
            baseline=baseline,
            target=f"ratio <= {TARGET_RATIO}",
            met=app / baseline <= TARGET_RATIO,
        )
    ]


def main() -> int:
    print(f"cold start, median of {REPETITIONS} fresh interpreters")
    print(format_table(measure()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
