"""Files the app makes for itself locally (the development issuer's key, the audit seal key)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def create_once(path: Path, content: bytes) -> None:
    """Writes ``content`` to ``path`` (owner-only) unless it exists. Writers racing to make it
    keep the first: each writes a file of its own and links it into place, which only one link
    can do."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    staging.write_bytes(content)
    staging.chmod(0o600)
    try:
        os.link(staging, path)
    except FileExistsError:
        pass
    finally:
        staging.unlink()
