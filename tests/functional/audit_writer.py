"""One writer process of the audit log, for the test that runs several against one family:

python -m tests.functional.audit_writer <family id> <events per thread> <threads>

Waits for a line on stdin (so every process starts writing at once), writes the events through
its own ``AuditLog`` on the Cosmos DB the environment names, each thread as its own caller, and
prints one JSON line: its writer id, the ids it wrote, and how many creates met a taken id.
"""

from __future__ import annotations

import json
import sys
import threading
from typing import Any

from shared.access import Caller
from shared.audit import AuditLog
from shared.bootstrap import get_runtime
from shared.identity import Principal
from shared.ports.errors import AlreadyExistsError


class Counting:
    """The real store, counting creates that found their id taken."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.conflicts = 0
        self._lock = threading.Lock()

    def append(self, event: dict[str, Any]) -> dict[str, Any]:
        try:
            created: dict[str, Any] = self.inner.append(event)
        except AlreadyExistsError:
            with self._lock:
                self.conflicts += 1
            raise
        return created

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def main(family_id: str, per_thread: int, threads: int) -> None:
    runtime = get_runtime()
    store = Counting(runtime.audit_store)
    log = AuditLog(store, runtime.clock)
    written: list[str] = []
    lock = threading.Lock()

    def write(index: int) -> None:
        principal = Principal(
            kind="staff",
            tenant_id="t",
            object_id=f"{log.writer}-{index}",
            name="Writer",
            roles=frozenset({"SocialWorker"}),
        )
        for n in range(per_thread):
            event = log.record(Caller(principal), "read", family_id, "note", f"{index}-{n}")
            with lock:
                written.append(str(event["id"]))

    runtime.audit_store.last_seal(family_id)  # connect before the start signal
    sys.stdin.readline()
    workers = [threading.Thread(target=write, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print(json.dumps({"writer": log.writer, "ids": written, "conflicts": store.conflicts}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
