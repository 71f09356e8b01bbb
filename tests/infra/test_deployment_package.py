"""The deployment package holds what runs in Azure and nothing else.

``azd deploy`` and ``func azure functionapp publish`` both zip the project root, leaving out what
``.funcignore`` lists, and the platform installs ``requirements.txt``. They read ``.funcignore``
differently, so the package is built here both ways, from the real working tree (where ``.venv``,
``.venv-infra``, ``node_modules`` and ``.local`` usually are), and both must be the same files:

- azd: gitignore semantics (``pathspec``); a directory that matches is skipped whole, and azd
  always leaves out its own ``.azure`` folder.
- Core Tools: its ``GitIgnoreParser``, a port of the ``gitignore-parser`` npm package. Every
  pattern is anchored at the root (a leading ``/`` is dropped) and matches as a prefix of the
  file's path, ``*`` within one path segment, ``**`` across segments; a file is kept if a ``!``
  pattern matches it or no other pattern does. Folders ``.git`` and ``.vscode`` and files such
  as ``local.settings.json`` are always left out.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pathspec
import pytest

from tests.infra.bicep import REPO

FUNCIGNORE = REPO / ".funcignore"
# What the Functions host loads in Azure: the app, its host configuration, what the platform
# installs, and the two packages the app imports.
RUNTIME = frozenset({"function_app.py", "host.json", "requirements.txt", "functions", "shared"})
NEVER = frozenset(
    {
        ".git",
        ".github",
        ".venv",
        ".venv-infra",
        ".python_packages",
        "node_modules",
        ".local",
        "local",
        "tests",
        "bench",
        "docs",
        "infra",
        "clients",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        "local.settings.json",
    }
)
# About twice the package measured on 2026-12-05 (90 files, 462 KB, 166 KB zipped): room for the
# app to grow, while a stray folder (.venv-infra alone is 290 MB, node_modules 240 MB) or a
# forgotten data file fails at once.
MAX_ZIP_BYTES = 340_000

Accepts = Callable[[str], bool]


def _patterns(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


def _walk(root: Path, keep_dir: Callable[[str], bool], keep_file: Accepts) -> Iterator[str]:
    """Relative paths of the files under root, skipping the folders keep_dir refuses."""
    for directory, folders, files in os.walk(root):
        base = Path(directory).relative_to(root)
        folders[:] = sorted(d for d in folders if keep_dir((base / d).as_posix()))
        for name in sorted(files):
            path = (base / name).as_posix()
            if keep_file(path):
                yield path


def azd_files(root: Path, ignore: str) -> list[str]:
    spec = pathspec.GitIgnoreSpec.from_lines(_patterns(ignore))
    return list(
        _walk(
            root,
            lambda path: path != ".azure" and not spec.match_file(f"{path}/"),
            lambda path: not spec.match_file(path),
        )
    )


def _core_tools_regex(pattern: str) -> str:
    escaped = re.sub(r"[\-\[\]/{}()+?.\\^$|]", r"\\\g<0>", pattern)
    return escaped.replace("**", "(.+)").replace("*", "([^/]+)")


def _core_tools_matcher(patterns: list[str]) -> re.Pattern[str]:
    if not patterns:
        return re.compile("$^")
    return re.compile("^((" + ")|(".join(_core_tools_regex(p) for p in sorted(patterns)) + "))")


CORE_TOOLS_FOLDERS = frozenset({".git", ".vscode"})
CORE_TOOLS_FILES = frozenset(
    {".funcignore", ".gitignore", "local.settings.json", "project.lock.json"}
)


def core_tools_files(root: Path, ignore: str) -> list[str]:
    positive: list[str] = []
    negative: list[str] = []
    for line in _patterns(ignore):
        if not line or line.startswith("#"):
            continue
        target = negative if line.startswith("!") else positive
        line = line.removeprefix("!").removeprefix("/")
        target.append(line)
    denied, kept = _core_tools_matcher(positive), _core_tools_matcher(negative)

    def accepts(path: str) -> bool:
        return bool(kept.match(path)) or not denied.match(path)

    def keep_dir(path: str) -> bool:
        # A prefix match of "dir/" is a match of every path below it, so with no ! pattern
        # the folder need not be walked.
        if Path(path).name in CORE_TOOLS_FOLDERS:
            return False
        return bool(negative) or not denied.match(f"{path}/")

    def keep_file(path: str) -> bool:
        return Path(path).name.lower() not in CORE_TOOLS_FILES and accepts(path)

    return list(_walk(root, keep_dir, keep_file))


def _zip(root: Path, files: list[str], target: Path) -> int:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(root / path, path)
    return target.stat().st_size


@pytest.fixture(scope="module")
def package() -> list[str]:
    return azd_files(REPO, FUNCIGNORE.read_text())


def test_azd_and_core_tools_build_the_same_package(package: list[str]) -> None:
    assert package == core_tools_files(REPO, FUNCIGNORE.read_text())


def test_package_holds_only_what_runs_in_azure(package: list[str]) -> None:
    assert {path.split("/")[0] for path in package} == RUNTIME
    leaked = sorted({part for path in package for part in path.split("/")} & NEVER)
    assert leaked == []
    assert [path for path in package if path.endswith((".pyc", ".md"))] == []


def test_package_holds_every_module_of_the_app(package: list[str]) -> None:
    modules = {
        path.relative_to(REPO).as_posix()
        for folder in ("functions", "shared")
        for path in (REPO / folder).rglob("*.py")
    }
    assert modules - set(package) == set()


def test_package_is_small(package: list[str], tmp_path: Path) -> None:
    size = _zip(REPO, package, tmp_path / "package.zip")
    assert size < MAX_ZIP_BYTES, f"the package is {size} bytes"


@pytest.mark.parametrize("build", [azd_files, core_tools_files])
def test_the_builders_leave_out_what_is_ignored(
    build: Callable[[Path, str], list[str]], tmp_path: Path
) -> None:
    for path in (
        "function_app.py",
        "shared/models.py",
        "shared/__pycache__/models.cpython-311.pyc",
        ".venv/bin/python",
        ".venv-infra/bin/checkov",
        "tests/test_app.py",
        "README.md",
    ):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("x")
    ignore = "/.venv\n/.venv-infra\n/tests\n__pycache__\n**/__pycache__\n/*.md\n"
    assert build(tmp_path, ignore) == ["function_app.py", "shared/models.py"]
    # Only azd reads /.venv as the one folder; Core Tools matches any path that starts with it.
    without_infra = ignore.replace("/.venv-infra\n", "")
    leaked = ".venv-infra/bin/checkov" in build(tmp_path, without_infra)
    assert leaked is (build is azd_files)
