"""What every benchmark needs: its own emulators, settings pointing at them, a counting client."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shared.composition import Runtime


@dataclass(frozen=True)
class Row:
    """One line of the benchmark report: our figure against a baseline measured in the same run.

    ``baseline`` is None when a measure has no same-run baseline (an absolute count, say);
    ``met`` is None when it has no target. ``target`` is said in words ("ratio <= 2.0").
    """

    measure: str
    ours: float
    unit: str
    baseline: float | None = None
    target: str = ""
    met: bool | None = None

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.ours / self.baseline


class RequestCounter:
    """An SDK response hook counting Cosmos DB requests and the documents they returned."""

    def __init__(self) -> None:
        self.requests = 0
        self.items = 0
        self._lock = threading.Lock()

    def __call__(self, response: Any) -> None:
        headers = response.http_response.headers
        with self._lock:
            self.requests += 1
            self.items += int(headers.get("x-ms-item-count") or 0)


@contextmanager
def bench_stack(**settings: str) -> Iterator[Path]:
    """Fresh emulators on free ports, the example settings pointed at them, plus ``settings``."""
    from local.config import EXAMPLE, local_values
    from local.emulators import Emulators, free_ports

    with tempfile.TemporaryDirectory() as state:
        folder = Path(state)
        emulators = Emulators(ports=free_ports(), state_dir=folder).start()
        try:
            os.environ.update(local_values(EXAMPLE))
            os.environ.update(emulators.settings())
            os.environ["AUTH_DEV_ISSUER_KEY_FILE"] = str(folder / "issuer.pem")
            os.environ["SMS_OUTBOX_PATH"] = str(folder / "outbox.jsonl")
            os.environ.update(settings)
            yield folder
        finally:
            emulators.stop()


def counting_runtime(counter: RequestCounter) -> Runtime:
    """A fresh runtime whose Cosmos DB client reports every response to ``counter``, with the
    database and containers provisioned."""
    from shared.adapters.blobs import provision_containers
    from shared.adapters.cosmos import build_cosmos_client, provision_database
    from shared.composition import get_runtime, reset_runtime

    reset_runtime()
    runtime = get_runtime()
    runtime.cosmos_client = build_cosmos_client(runtime.settings, raw_response_hook=counter)
    provision_database(runtime.cosmos_client, runtime.settings.cosmos_database)
    provision_containers(runtime.blob_service)
    return runtime
