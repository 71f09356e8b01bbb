"""Where derivatives go. The function app writes to the ``derivatives`` blob container
(``shared.adapters.blob_media.ContainerSink``); tests and local tools keep them in memory or in
a folder."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from shared.ports.media import DerivativeSink

__all__ = ["DerivativeSink", "DirectorySink", "MemorySink", "StoredDerivative"]


@dataclass(frozen=True)
class StoredDerivative:
    content_type: str
    data: bytes


@dataclass
class MemorySink:
    blobs: dict[str, StoredDerivative] = field(default_factory=dict)

    def write(self, name: str, content_type: str, data: BinaryIO, length: int) -> None:
        content = data.read()
        if len(content) != length:
            raise ValueError(f"{name}: expected {length} bytes, read {len(content)}")
        self.blobs[name] = StoredDerivative(content_type, content)


@dataclass
class DirectorySink:
    """Writes each derivative to ``root / name``; remembers content types in ``content_types``."""

    root: Path
    content_types: dict[str, str] = field(default_factory=dict)

    def write(self, name: str, content_type: str, data: BinaryIO, length: int) -> None:
        target = (self.root / name).resolve()
        if not target.is_relative_to(self.root.resolve()):
            raise ValueError(f"{name!r} is outside the sink's folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as output:
            shutil.copyfileobj(data, output)
        self.content_types[name] = content_type
