"""``make run``: the emulators, the database and containers, and the app on port 7071.

Stays in the foreground; Ctrl-C stops every process it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from types import FrameType

from local.config import LOCAL, STATE, apply_local_settings, ensure_local_settings
from local.emulators import Emulators, PortInUseError, ensure_port_free
from local.host import configure_logging, serve

APP_PORT = 7071
SAMPLE_OID = "8c2d3c5e-3d6a-4a55-9a27-1f1f3a9b0c11"


def provision() -> None:
    from shared.adapters.blobs import provision_containers
    from shared.adapters.cosmos import provision_database
    from shared.composition import get_runtime

    runtime = get_runtime()
    provision_database(runtime.cosmos_client, runtime.settings.cosmos_database)
    provision_containers(runtime.blob_service)


def banner(emulators: Emulators) -> str:
    base = f"http://localhost:{APP_PORT}/api/v1"
    return f"""
FamilyStory is running.
  API           {base}   (try {base}/health)
  OpenAPI       {base}/openapi.json
  Cosmos DB     {emulators.cosmos_endpoint}   (in memory: empty after each restart)
  Azurite blob  {emulators.blob_endpoint}   (data in {STATE / "azurite"})
  Settings      {LOCAL}
  Logs          this terminal; emulator logs in {STATE / "logs"}

A token for the local API:
  .venv/bin/python -m local.token staff --oid {SAMPLE_OID} --role SocialWorker
  .venv/bin/python -m local.token family --oid <uuid> --phone +447700900123

Ctrl-C stops everything.
"""


def main() -> int:
    ensure_local_settings()
    settings = apply_local_settings()
    configure_logging(os.environ.get("LOG_LEVEL", "INFO"))
    emulators = Emulators()
    try:
        ensure_port_free(APP_PORT, "FamilyStory API")
        emulators.start()
    except PortInUseError as error:
        print(f"make run: {error}", file=sys.stderr)
        return 1
    except RuntimeError as error:
        print(f"make run: {error} (see {emulators.log_dir})", file=sys.stderr)
        return 1

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        provision()
        print(banner(emulators), flush=True)
        asyncio.run(serve(APP_PORT, {**settings, **os.environ}))
    except KeyboardInterrupt:
        pass
    finally:
        logging.getLogger("familystory.host").info("stopping the emulators")
        with contextlib.suppress(KeyboardInterrupt):
            emulators.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
