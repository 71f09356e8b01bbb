"""Local settings: ``local.settings.json`` (created from the example on first run) into the env."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "local.settings.example.json"
LOCAL = ROOT / "local.settings.json"
STATE = ROOT / ".local"


def ensure_local_settings() -> Path:
    if not LOCAL.exists():
        shutil.copyfile(EXAMPLE, LOCAL)
    return LOCAL


def _values(source: Path) -> dict[str, str]:
    document = json.loads(source.read_text())
    return {str(k): str(v) for k, v in document.get("Values", {}).items()}


def local_values(path: Path | None = None) -> dict[str, str]:
    """The ``Values`` of ``path``; by default the example's, overlaid by ``local.settings.json``
    (so a developer's older copy still gets settings added since it was made)."""
    if path is not None:
        return _values(path)
    values = _values(EXAMPLE)
    if LOCAL.exists():
        values.update(_values(LOCAL))
    return values


def apply_local_settings(overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Put the local settings into ``os.environ`` (existing variables win) and return them."""
    values = local_values()
    values.update(overrides or {})
    for name, value in values.items():
        os.environ.setdefault(name, value)
    return {name: os.environ[name] for name in values}
