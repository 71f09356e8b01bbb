"""Layering: the import contracts in pyproject.toml hold, and what they cannot see is checked here.

``lint-imports`` checks the packages ``functions``, ``shared`` and ``local`` (who may import
azure.functions, shared below the edge, feature modules independent, no circles). It cannot see
files outside those packages (``function_app.py``, ``bench/``, scripts), nor tell an import at
module level, paid at every cold start, from one inside a function: those two are checked here.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINTED = ("functions/", "shared/", "local/")
ALLOWED = ("function_app.py", "tests/")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def python_files() -> list[Path]:
    skipped = {".venv", ".venv-infra", "node_modules", ".local"}
    return [p for p in ROOT.rglob("*.py") if not skipped.intersection(p.relative_to(ROOT).parts)]


def imports_azure_functions(path: Path) -> bool:
    return any(
        name == "azure.functions" or name.startswith("azure.functions.")
        for name in imported_modules(path)
    )


def test_the_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_outside_the_linted_packages_only_the_app_and_tests_import_azure_functions() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in python_files()
        if imports_azure_functions(p) and not str(p.relative_to(ROOT)).startswith(LINTED + ALLOWED)
    ]
    assert offenders == []


def test_the_checker_sees_an_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from azure.functions import HttpRequest\n")
    assert imports_azure_functions(sample)
    sample.write_text("import azure.functions as func\n")
    assert imports_azure_functions(sample)
    sample.write_text("import azure.cosmos\n")
    assert not imports_azure_functions(sample)


def test_shared_does_not_import_heavy_sdks_at_module_level() -> None:
    heavy = ("azure.cosmos", "azure.storage", "azure.identity", "PIL", "imageio", "pocketsphinx")
    offenders = []
    for path in (ROOT / "shared").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                )
                offenders += [f"{path.name}: {n}" for n in names if n.startswith(heavy)]
    assert offenders == []


def shared_modules() -> list[Path]:
    return sorted((ROOT / "shared").rglob("*.py"))


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_only_the_adapters_import_an_azure_sdk() -> None:
    """Type-checking imports included: a service never names an SDK type or exception."""
    offenders = [
        f"{relative(p)}: {name}"
        for p in shared_modules()
        if not relative(p).startswith("shared/adapters/")
        for name in sorted(imported_modules(p))
        if name == "azure" or name.startswith("azure.")
    ]
    assert offenders == []


def test_nothing_below_the_edge_imports_the_composition_root() -> None:
    """Services are given the ports; the one exception is the edge's media presenter, whose
    call (``case.present_for`` without a runtime) predates the ports."""
    allowed = {"shared/composition.py", "shared/services/case.py"}
    offenders = [
        relative(p)
        for p in shared_modules()
        if relative(p) not in allowed and "shared.composition" in imported_modules(p)
    ]
    assert offenders == []


def test_services_reach_the_adapters_only_through_the_ports() -> None:
    """Only the composition root builds adapters (and ``shared/faults.py`` hands the edge the
    adapters' outage check)."""
    allowed = ("shared/adapters/", "shared/composition.py", "shared/faults.py")
    offenders = [
        relative(p)
        for p in shared_modules()
        if not relative(p).startswith(allowed)
        and any(name.startswith("shared.adapters") for name in imported_modules(p))
    ]
    assert offenders == []


def test_lower_layers_never_import_the_services() -> None:
    """Records, retention, reminders, sync helpers and ports stay below ``shared/services``:
    the imports that ran back up the layers (records to callers, retention to callers, export
    to the reminder notifications) are gone."""
    lower = ("shared/records/", "shared/retention/", "shared/ports/", "shared/adapters/")
    offenders = [
        f"{relative(p)}: {name}"
        for p in shared_modules()
        if relative(p).startswith(lower)
        for name in sorted(imported_modules(p))
        if name.startswith("shared.services")
    ]
    assert offenders == []
