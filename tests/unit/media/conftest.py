from __future__ import annotations

from pathlib import Path

import pytest

from shared.media import MediaOptions, MemorySink, PocketsphinxEngine
from tests.unit.media import samples


@pytest.fixture(scope="session")
def samples_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media-samples")


@pytest.fixture(scope="session")
def speech(samples_dir: Path) -> Path:
    return samples.speech_wav(samples_dir / "speech.wav")


@pytest.fixture(scope="session")
def bomb(samples_dir: Path) -> Path:
    return samples.bomb_png(samples_dir / "bomb.png")


@pytest.fixture(scope="session")
def engine() -> PocketsphinxEngine:
    return PocketsphinxEngine()


@pytest.fixture
def sink() -> MemorySink:
    return MemorySink()


@pytest.fixture
def options() -> MediaOptions:
    return MediaOptions()
