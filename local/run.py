"""``make run``: the emulators, the database and containers, and the app on port 7071.

Stays in the foreground; Ctrl-C stops every process it started.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType

from local.config import LOCAL, STATE, apply_local_settings, ensure_local_settings
from local.emulators import Emulators, PortInUseError, Ports, ensure_port_free
from local.host.eventgrid import KEYS_FILE_SETTING, SYSTEM_KEY_NAME, host_keys, keys_path
from local.host.serve import configure_logging, serve

APP_PORT = 7071
SAMPLE_OID = "8c2d3c5e-3d6a-4a55-9a27-1f1f3a9b0c11"


def provision() -> None:
    from local.host.queues import provision_queues
    from shared.adapters.blobs import provision_containers
    from shared.adapters.cosmos import provision_database
    from shared.bootstrap import get_runtime
    from shared.storage_layout import STORAGE_QUEUES

    runtime = get_runtime()
    provision_database(runtime.cosmos_client, runtime.settings.cosmos_database)
    provision_containers(runtime.blob_service)
    provision_queues(os.environ["MEDIA_STORAGE"], STORAGE_QUEUES)


def banner(emulators: Emulators, port: int, event_grid_key: str) -> str:
    base = f"http://localhost:{port}/api/v1"
    webhook = f"http://localhost:{port}/runtime/webhooks/eventgrid?functionName=<name>"
    return f"""
FamilyStory is running.
  API           {base}   (try {base}/health)
  OpenAPI       {base}/openapi.json
  Event Grid    {webhook}
                x-functions-key: {event_grid_key}   (the eventgrid_extension system key)
  Cosmos DB     {emulators.cosmos_endpoint}   (in memory: empty after each restart)
  Azurite blob  {emulators.blob_endpoint}   (data in {emulators.data_dir})
  Settings      {LOCAL}
  Logs          this terminal; emulator logs in {emulators.log_dir}
  Telemetry     {telemetry()}

A token for the local API:
  .venv/bin/python -m local.token staff --oid {SAMPLE_OID} --role SocialWorker
  .venv/bin/python -m local.token family --oid <uuid> --phone +447700900123

Ctrl-C stops everything.
"""


def telemetry() -> str:
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    if endpoint:
        return f"{endpoint}   (OTLP/HTTP: traces and logs)"
    return "off (set OTEL_EXPORTER_OTLP_ENDPOINT to send traces and logs to a collector)"


def parse(argv: list[str] | None) -> argparse.Namespace:
    defaults = Ports()
    parser = argparse.ArgumentParser(prog="python -m local.run", description=__doc__)
    parser.add_argument("--port", type=int, default=APP_PORT, help="API port (7071)")
    parser.add_argument("--cosmos-port", type=int, default=defaults.cosmos)
    parser.add_argument("--blob-port", type=int, default=defaults.blob)
    parser.add_argument("--queue-port", type=int, default=defaults.queue)
    parser.add_argument("--table-port", type=int, default=defaults.table)
    parser.add_argument("--state-dir", type=Path, default=STATE, help="emulator data (.local)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    ensure_local_settings()
    os.environ.setdefault(KEYS_FILE_SETTING, str(args.state_dir / "host-keys.json"))
    emulators = Emulators(
        ports=Ports(args.cosmos_port, args.blob_port, args.queue_port, args.table_port),
        state_dir=args.state_dir,
    )
    settings = apply_local_settings()
    settings.update(emulators.settings())
    os.environ.update(emulators.settings())  # the emulators started here are the ones to use
    configure_logging(os.environ.get("LOG_LEVEL", "INFO"))
    try:
        ensure_port_free(args.port, "FamilyStory API")
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
        keys = host_keys(keys_path())
        print(banner(emulators, args.port, keys[SYSTEM_KEY_NAME]), flush=True)
        asyncio.run(serve(args.port, {**settings, **os.environ}))
    except KeyboardInterrupt:
        pass
    finally:
        logging.getLogger("familystory.host").info("stopping the emulators")
        with contextlib.suppress(KeyboardInterrupt):
            emulators.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
