"""LazyModule imports on first use, once, and never hands a thread a half-loaded module."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.lazy import LazyModule

SLOW_MODULE = """
import time
FIRST = 1
time.sleep(0.3)  # a thread reading LAST before the import finished would fail
LAST = 2
"""


@pytest.fixture
def slow_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = f"lazy_probe_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(SLOW_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_nothing_is_imported_until_an_attribute_is_read(slow_module: str) -> None:
    module = LazyModule(slow_module)
    assert slow_module not in sys.modules
    assert module.LAST == 2
    assert slow_module in sys.modules


def test_threads_reading_at_once_all_see_the_whole_module(slow_module: str) -> None:
    module = LazyModule(slow_module)
    seen: list[int] = []
    failures: list[BaseException] = []
    start = threading.Barrier(8)

    def read() -> None:
        start.wait()
        try:
            seen.append(module.LAST)
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert seen == [2] * 8


def test_a_missing_attribute_is_an_attribute_error(slow_module: str) -> None:
    with pytest.raises(AttributeError):
        _ = LazyModule(slow_module).NOT_THERE
