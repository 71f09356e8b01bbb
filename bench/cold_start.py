"""Cold start: a fresh ``import function_app`` against a fresh ``import azure.functions``.

Runs both in new interpreters, interleaved, several times, and reports the medians and their
ratio. Target: ratio at most 1.5 (heavy SDKs are imported where used, not at module level).

Registering the endpoints imports no model and not pydantic: those load when a request first
needs them. So the report also shows what that costs, in the same run: a fresh import followed by
validating a note body (pydantic and the note models, as the first note request builds them).

Telemetry is the same: with a destination configured (as in Azure), the import only notes it
(same target), and the first invocation sets it up: the rows show both. The set-up row stops its
interpreter at once (``os._exit``), since the exporters would otherwise try to send at exit.
"""

from __future__ import annotations

import os
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
TELEMETRY_IMPORT = "import function_app  # telemetry configured"
FIRST_INVOCATION = (
    "import os, function_app\n"
    "from shared import telemetry\n"
    "with telemetry.invocation('system_health', 'cold', 'http') as run:\n"
    "    run.answered(200)\n"
    "assert telemetry.enabled()\n"
    "os._exit(0)"
)
# What the Bicep sets in Azure; nothing is sent in the measured time (the exporters send in
# batches, after it), and the endpoint is one nothing listens on.
TELEMETRY = {
    "APPLICATIONINSIGHTS_CONNECTION_STRING": (
        "InstrumentationKey=00000000-0000-0000-0000-000000000000;"
        "IngestionEndpoint=https://127.0.0.1:9/"
    ),
    "AZURE_CLIENT_ID": "00000000-0000-0000-0000-000000000001",
    "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
}
TELEMETRY_OFF = ("APPLICATIONINSIGHTS_CONNECTION_STRING", "OTEL_EXPORTER_OTLP_ENDPOINT")


def wall_time(statement: str, environment: dict[str, str] | None = None) -> float:
    env = {k: v for k, v in os.environ.items() if k not in TELEMETRY_OFF}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", statement], cwd=ROOT, check=True, env={**env, **(environment or {})}
    )
    return time.perf_counter() - started


def measure() -> list[Row]:
    subjects: dict[str, list[float]] = {
        IMPORT: [],
        BASELINE: [],
        FIRST_NOTE: [],
        TELEMETRY_IMPORT: [],
        FIRST_INVOCATION: [],
    }
    configured = {TELEMETRY_IMPORT, FIRST_INVOCATION}
    wall_time(FIRST_NOTE)  # warm the file-system cache and .pyc files once
    wall_time(FIRST_INVOCATION, TELEMETRY)
    for _ in range(REPETITIONS):
        for statement, samples in subjects.items():
            samples.append(wall_time(statement, TELEMETRY if statement in configured else None))
    app, baseline, first_note, telemetry_import, first_invocation = (
        statistics.median(samples) * 1000 for samples in subjects.values()
    )
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
        Row(
            "cold start with telemetry configured (App Insights, as in Azure): fresh import",
            telemetry_import,
            "ms",
            baseline=baseline,
            target=f"ratio <= {TARGET_RATIO}",
            met=telemetry_import / baseline <= TARGET_RATIO,
        ),
        Row(
            "cold start with telemetry configured, then the first invocation sets it up "
            "(exporters, OpenTelemetry SDK, Azure SDK tracing)",
            first_invocation,
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
