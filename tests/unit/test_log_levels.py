"""LOG_LEVEL sets the app's log levels when the app starts, and keeps the SDKs quiet."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.log_levels import APP_LOGGERS, SDK_LOGGERS, configure_log_levels

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def restore_levels() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in (*APP_LOGGERS, *SDK_LOGGERS)]
    saved = [logger.level for logger in loggers]
    yield
    for logger, level in zip(loggers, saved, strict=True):
        logger.setLevel(level)


def _levels(names: tuple[str, ...]) -> set[str]:
    return {logging.getLevelName(logging.getLogger(name).level) for name in names}


@pytest.mark.parametrize("value", ["WARNING", "warning", " Error "])
def test_the_apps_loggers_take_the_level_of_log_level(value: str) -> None:
    used = configure_log_levels({"LOG_LEVEL": value})
    assert used == value.strip().upper()
    assert _levels(APP_LOGGERS) == {used}
    assert logging.getLogger("familystory.media").getEffectiveLevel() == logging.getLevelName(used)
    assert logging.getLogger("shared.reminders.service").getEffectiveLevel() == (
        logging.getLevelName(used)
    )


def test_without_log_level_the_app_logs_at_info() -> None:
    assert configure_log_levels({}) == "INFO"
    assert _levels(APP_LOGGERS) == {"INFO"}


def test_the_sdks_log_warnings_only_unless_log_level_is_debug() -> None:
    configure_log_levels({"LOG_LEVEL": "INFO"})
    assert _levels(SDK_LOGGERS) == {"WARNING"}
    assert not logging.getLogger("azure.core.pipeline.policies.http_logging_policy").isEnabledFor(
        logging.INFO
    )
    configure_log_levels({"LOG_LEVEL": "DEBUG"})
    assert _levels(SDK_LOGGERS) == {"DEBUG"}
    assert _levels(APP_LOGGERS) == {"DEBUG"}


@pytest.mark.parametrize("value", ["VERBOSE", "10", "info please"])
def test_an_invalid_log_level_falls_back_to_info_with_a_warning(
    value: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="familystory"):
        assert configure_log_levels({"LOG_LEVEL": value}) == "INFO"
        assert _levels(APP_LOGGERS) == {"INFO"}
        assert _levels(SDK_LOGGERS) == {"WARNING"}
    (record,) = caplog.records
    assert record.name == "familystory"
    assert record.levelno == logging.WARNING
    assert repr(value) in record.getMessage()
    assert "INFO" in record.getMessage()


def test_log_level_is_read_from_the_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "ERROR")
    assert configure_log_levels() == "ERROR"


def _python(code: str, log_level: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "LOG_LEVEL": log_level},
    )
    return completed.stdout.strip()


def test_the_app_sets_the_levels_when_it_starts() -> None:
    code = (
        "import logging, function_app\n"
        "print(logging.getLevelName(logging.getLogger('familystory').level),"
        " logging.getLevelName(logging.getLogger('azure').level))"
    )
    assert _python(code, "ERROR") == "ERROR WARNING"


def test_setting_the_levels_imports_nothing_beyond_the_standard_library() -> None:
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "from shared.log_levels import configure_log_levels\n"
        "configure_log_levels()\n"
        "added = {m.partition('.')[0] for m in set(sys.modules) - before}\n"
        "print(sorted(added - set(sys.stdlib_module_names)))"
    )
    assert _python(code, "INFO") == "['shared']"
