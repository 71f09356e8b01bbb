"""Checkov (``--framework bicep``, offline) passes on ``infra/`` with no failed check.

Checkov runs from its own virtual environment (``.venv-infra``, see ``infra/infra.mk``) because
its pinned dependencies clash with the app's. It runs once for the module, over the real
templates and a bad fixture together, so the same run shows that it does find failures and
files it cannot parse (which it would otherwise pass over silently).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.infra.bicep import FIXTURES, INFRA, REPO, bicep_files

CHECKOV = Path(os.environ.get("CHECKOV", REPO / ".venv-infra" / "bin" / "checkov"))
BAD = FIXTURES / "checkov"


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    assert CHECKOV.is_file(), f"{CHECKOV} is missing: run `make .venv-infra/.installed`"
    files = [*bicep_files(INFRA), *bicep_files(BAD)]
    arguments = [str(CHECKOV), "--framework", "bicep", "--skip-download", "--compact", "-o", "json"]
    for path in files:
        arguments += ["-f", str(path)]
    environment = {**os.environ, "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "LOG_LEVEL": "WARNING"}
    completed = subprocess.run(
        arguments, capture_output=True, text=True, env=environment, timeout=240, check=False
    )
    assert completed.returncode in (0, 1), completed.stderr
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def _under(path: str, root: Path) -> bool:
    return Path(path).resolve().is_relative_to(root)


def _checks(report: dict[str, Any], outcome: str, root: Path) -> list[dict[str, Any]]:
    return [c for c in report["results"][outcome] if _under(c["file_abs_path"], root)]


def test_checkov_passes_on_the_stack(report: dict[str, Any]) -> None:
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']})"
        for c in _checks(report, "failed_checks", INFRA)
    ]
    assert failed == []
    assert len(_checks(report, "passed_checks", INFRA)) >= 30


def test_checkov_parsed_every_template(report: dict[str, Any]) -> None:
    unparsed = [path for path in report["results"]["parsing_errors"] if _under(path, INFRA)]
    assert unparsed == []


def test_every_skipped_check_gives_a_reason(report: dict[str, Any]) -> None:
    for check in _checks(report, "skipped_checks", INFRA):
        reason = check["check_result"].get("suppress_comment", "")
        assert reason != "No comment provided", check["check_id"]
        assert len(reason) >= 40, check["check_id"]


def test_checkov_reports_failures_and_unparsable_files(report: dict[str, Any]) -> None:
    failed = {c["check_id"] for c in _checks(report, "failed_checks", BAD)}
    assert {"CKV_AZURE_3", "CKV_AZURE_44"} <= failed
    unparsed = {Path(path).name for path in report["results"]["parsing_errors"]}
    assert "unparsable.bicep" in unparsed
