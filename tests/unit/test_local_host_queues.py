"""How the local host reads ``host.json``'s queue settings, as the Storage queues extension does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local.host.queues import QueueOptions, timespan_seconds
from shared.settings import Settings


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("00:00:30", 30.0), ("00:10:00", 600.0), ("1.02:00:00", 93600.0), ("00:00:00.5", 0.5),
     (2000, 2.0)],
)  # fmt: skip
def test_timespans_and_milliseconds_are_read_as_the_host_reads_them(
    value: object, seconds: float
) -> None:
    assert timespan_seconds(value) == seconds


def test_a_value_that_is_no_timespan_is_refused() -> None:
    with pytest.raises(ValueError, match="TimeSpan"):
        timespan_seconds("thirty seconds")


def test_missing_settings_take_the_extensions_defaults(tmp_path: Path) -> None:
    host = tmp_path / "host.json"
    host.write_text(json.dumps({"version": "2.0"}))

    options = QueueOptions.from_host_json(host)

    assert (options.batch_size, options.max_dequeue_count) == (16, 5)
    assert (options.visibility_timeout, options.max_polling_interval) == (0.0, 60.0)
    assert options.message_encoding == "base64"


@pytest.mark.parametrize(
    "queues", [{"batchSize": 33}, {"batchSize": 0}, {"messageEncoding": "utf8"}]
)
def test_settings_the_extension_refuses_are_refused(
    tmp_path: Path, queues: dict[str, object]
) -> None:
    host = tmp_path / "host.json"
    host.write_text(json.dumps({"version": "2.0", "extensions": {"queues": queues}}))

    with pytest.raises(ValueError, match=r"host\.json"):
        QueueOptions.from_host_json(host)


def test_an_upload_is_rejected_before_its_message_would_be_poisoned() -> None:
    """The processor rejects an upload on the delivery after ``MEDIA_MAX_ATTEMPTS`` failed
    attempts; that delivery must come before the host gives the message up."""
    options = QueueOptions.from_host_json()
    assert options.max_dequeue_count > Settings().media_max_attempts
    assert options.message_encoding == "base64", "Event Grid writes queue messages in base64"
