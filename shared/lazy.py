"""Modules imported the first time they are used, so a cold start pays only for what it touches.

The HTTP functions are registered at every cold start, but the services behind them (and the
pydantic models those build on) are needed only when a request arrives; each function module
names its services with ``LazyModule`` and imports them for real only for the type checker.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands for the module ``name`` and imports it when an attribute is first read.

    Safe across threads: ``importlib.import_module`` holds the module's import lock while it
    loads, so a second thread waits for the finished module rather than seeing half of it.
    """

    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attribute)

    def __repr__(self) -> str:
        return f"<LazyModule {self._name}{'' if self._module is None else ' (loaded)'}>"
