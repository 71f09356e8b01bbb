"""Files the app makes for itself: made once, owner-only, the first of racing writers kept."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from shared.files import create_once


def test_the_first_of_racing_writers_is_kept_and_nothing_else_is_left(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "key.pem"
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: create_once(path, f"writer {n}".encode()), range(32)))
    assert path.read_text().startswith("writer ")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["key.pem"]


def test_an_existing_file_is_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "key"
    create_once(path, b"first")
    create_once(path, b"second")
    assert path.read_bytes() == b"first"
