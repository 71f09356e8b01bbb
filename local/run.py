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
from local.host.cors import CorsConfigurationError, CorsPolicy, local_cors_policy
from local.host.eventgrid import KEYS_FILE_SETTING, SYSTEM_KEY_NAME, host_keys, keys_path
from local.host.serve import configure_logging, serve
from local.web import DIST, WEB_PORT, WebServer, WebSettings, build_web_app

APP_PORT = 7071
SAMPLE_OID = "8c2d3c5e-3d6a-4a55-9a27-1f1f3a9b0c11"


def provision(cors: CorsPolicy | None = None) -> None:
    from local.host.queues import provision_queues
    from shared.adapters.blobs import provision_containers
    from shared.adapters.cosmos import provision_database
    from shared.bootstrap import get_runtime
    from shared.storage_layout import STORAGE_QUEUES

    runtime = get_runtime()
    provision_database(runtime.cosmos_client, runtime.settings.cosmos_database)
    provision_containers(runtime.blob_service)
    provision_queues(os.environ["MEDIA_STORAGE"], STORAGE_QUEUES)
    if cors is not None:
        allow_browser_uploads(os.environ["MEDIA_STORAGE"], cors)


# The media account's CORS rule in Azure (infra/app/storage.bicep), to the letter: a header the
# browser sends that Azure would refuse is refused here too (tests/infra/test_web.py).
BLOB_CORS_METHODS = ["GET", "HEAD", "PUT"]
BLOB_CORS_HEADERS = [
    "content-type",
    "content-md5",
    "x-ms-blob-type",
    "x-ms-blob-content-type",
    "x-ms-content-crc64",
    "x-ms-version",
    "x-ms-date",
    "x-ms-client-request-id",
]
BLOB_CORS_EXPOSED = [
    "etag",
    "last-modified",
    "content-length",
    "content-type",
    "x-ms-request-id",
    "x-ms-error-code",
]
BLOB_CORS_MAX_AGE = 3600


def allow_browser_uploads(connection_string: str, cors: CorsPolicy) -> None:
    """The blob service's CORS rule (Set Blob Service Properties): the web app's origins may PUT
    blocks and the block list to an upload URL and GET media through a download URL."""
    from azure.storage.blob import BlobServiceClient, CorsRule

    origins = sorted(cors.origins)
    rules = (
        [
            CorsRule(
                origins,
                BLOB_CORS_METHODS,
                allowed_headers=BLOB_CORS_HEADERS,
                exposed_headers=BLOB_CORS_EXPOSED,
                max_age_in_seconds=BLOB_CORS_MAX_AGE,
            )
        ]
        if origins
        else []
    )
    BlobServiceClient.from_connection_string(connection_string).set_service_properties(cors=rules)


def banner(emulators: Emulators, port: int, event_grid_key: str, web_port: int) -> str:
    base = f"http://localhost:{port}/api/v1"
    web = f"http://localhost:{web_port}/"
    webhook = f"http://localhost:{port}/runtime/webhooks/eventgrid?functionName=<name>"
    return f"""
FamilyStory is running.
  Web app       {web}   (sign in with a local development token: pick a role and an id)
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
    parser.add_argument("--web-port", type=int, default=WEB_PORT, help="web app port (4280)")
    parser.add_argument("--cosmos-port", type=int, default=defaults.cosmos)
    parser.add_argument("--blob-port", type=int, default=defaults.blob)
    parser.add_argument("--queue-port", type=int, default=defaults.queue)
    parser.add_argument("--table-port", type=int, default=defaults.table)
    parser.add_argument(
        "--web-dist",
        type=Path,
        default=DIST,
        help="the web app's build to serve (clients/web/dist)",
    )
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
    web_origin = f"http://localhost:{args.web_port}"
    try:
        cors = local_cors_policy().with_origins([web_origin])
    except CorsConfigurationError as error:
        print(f"make run: local.settings.json: {error}", file=sys.stderr)
        return 1
    web_settings = WebSettings(
        api_base_url=f"http://localhost:{args.port}/api/v1",
        dev_issuer_enabled=os.environ.get("AUTH_DEV_ISSUER_ENABLED", "").lower() == "true",
        media_origin=emulators.blob_endpoint,
        dist=args.web_dist,
    )
    web: WebServer | None = None
    try:
        ensure_port_free(args.port, "FamilyStory API")
        ensure_port_free(args.web_port, "FamilyStory web app")
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
        provision(cors)
        web = WebServer(build_web_app(web_settings), args.web_port).start()
        keys = host_keys(keys_path())
        print(banner(emulators, args.port, keys[SYSTEM_KEY_NAME], args.web_port), flush=True)
        if not (args.web_dist / "index.html").is_file():
            print(f"The web app is not built ({args.web_dist}): make run builds it.", flush=True)
        asyncio.run(serve(args.port, {**settings, **os.environ}, cors=cors))
    except KeyboardInterrupt:
        pass
    finally:
        if web is not None:
            web.stop()
        logging.getLogger("familystory.host").info("stopping the emulators")
        with contextlib.suppress(KeyboardInterrupt):
            emulators.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
