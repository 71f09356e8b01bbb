"""Layering: the import contracts in pyproject.toml hold, and what they cannot see is checked here.

``lint-imports`` checks the packages ``functions``, ``shared`` and ``local``: who may import
azure.functions and the Azure SDKs, the layers of ``shared`` with the bootstrap on top, the edge
below the feature modules, feature modules independent, no circles. It cannot see files outside
those packages (``function_app.py``, ``bench/``, scripts), directories that are not packages, nor
tell an import at module level, paid at every cold start, from one inside a function: those are
checked here.
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


def test_every_linted_directory_is_a_package() -> None:
    """The import graph skips a directory without ``__init__.py`` (a namespace package), so the
    contracts would silently not apply to it: ``shared/records``, ``shared/sync`` and
    ``shared/retention`` once went unchecked that way."""
    unpackaged = sorted(
        relative(directory)
        for top in LINTED
        for directory in [ROOT / top, *(ROOT / top).rglob("*")]
        if directory.is_dir()
        and directory.name != "__pycache__"
        and any(directory.glob("*.py"))
        and not (directory / "__init__.py").exists()
    )
    assert unpackaged == []
