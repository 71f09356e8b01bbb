"""Start and stop the local emulators: Azurite (Blob Storage) and the Cosmos DB server."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from local.certs import ensure_dev_certificate
from local.config import ROOT, STATE

NODE_BIN = ROOT / "node_modules" / ".bin"
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
COSMOS_EMULATOR_KEY = (
    "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="
)


class PortInUseError(RuntimeError):
    def __init__(self, port: int, what: str) -> None:
        super().__init__(
            f"Port {port} ({what}) is already in use. Stop whatever holds it "
            f"(`ss -ltnp 'sport = :{port}'` shows it) or choose another port."
        )
        self.port = port


@dataclass(frozen=True)
class Ports:
    cosmos: int = 8081
    blob: int = 10000
    queue: int = 10001
    table: int = 10002

    def named(self) -> dict[str, int]:
        return {
            "Cosmos DB server": self.cosmos,
            "Azurite blob": self.blob,
            "Azurite queue": self.queue,
            "Azurite table": self.table,
        }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def free_ports() -> Ports:
    return Ports(cosmos=free_port(), blob=free_port(), queue=free_port(), table=free_port())


def ensure_port_free(port: int, what: str) -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise PortInUseError(port, what) from None


def wait_for_port(port: int, what: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode} while starting")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not open port {port} within {timeout:.0f} s")


@dataclass
class Emulators:
    """The running emulators, with the settings that point the app at them."""

    ports: Ports = field(default_factory=Ports)
    state_dir: Path = STATE
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _logs: list[IO[bytes]] = field(default_factory=list)
    _azurite: subprocess.Popen[bytes] | None = None

    @property
    def blob_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports.blob}/{AZURITE_ACCOUNT}"

    @property
    def cosmos_endpoint(self) -> str:
        return f"https://localhost:{self.ports.cosmos}"

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "azurite"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def certificate(self) -> Path:
        return self.state_dir / "certs" / "localhost-cert.pem"

    def storage_connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
            f"AccountKey={AZURITE_KEY};BlobEndpoint={self.blob_endpoint};"
            f"QueueEndpoint=http://127.0.0.1:{self.ports.queue}/{AZURITE_ACCOUNT};"
            f"TableEndpoint=http://127.0.0.1:{self.ports.table}/{AZURITE_ACCOUNT};"
        )

    def settings(self) -> dict[str, str]:
        """App settings that point at these emulators."""
        return {
            "AzureWebJobsStorage": self.storage_connection_string(),
            "MEDIA_STORAGE": self.storage_connection_string(),
            "MEDIA_STORAGE__blobServiceUri": self.blob_endpoint,
            "MEDIA_STORAGE__queueServiceUri": f"http://127.0.0.1:{self.ports.queue}/{AZURITE_ACCOUNT}",
            "COSMOS__accountEndpoint": self.cosmos_endpoint,
            "COSMOS__accountKey": COSMOS_EMULATOR_KEY,
            "COSMOS__caCertificate": str(self.certificate),
        }

    def start(self, timeout: float = 60) -> Emulators:
        for what, port in self.ports.named().items():
            ensure_port_free(port, what)
        key, cert = ensure_dev_certificate(self.state_dir / "certs")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            azurite = self._spawn_azurite()
            cosmos = self._spawn(
                "cosmos",
                ["node", str(ROOT / "local" / "cosmos-server.js"), str(self.ports.cosmos),
                 str(key), str(cert)],
            )  # fmt: skip
            wait_for_port(self.ports.blob, "Azurite", azurite, timeout)
            wait_for_port(self.ports.cosmos, "Cosmos DB server", cosmos, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop_azurite(self, timeout: float = 10) -> None:
        """Stop Azurite alone (an outage of Storage); its data stays in ``data_dir``."""
        azurite = self._azurite
        if azurite is None:
            return
        self._azurite = None
        self.processes.remove(azurite)
        _terminate([azurite], timeout)

    def start_azurite(self, timeout: float = 60) -> None:
        """Start Azurite again on the same ports, with the data it had."""
        if self._azurite is not None:
            return
        for what, port in self.ports.named().items():
            if what.startswith("Azurite"):
                ensure_port_free(port, what)
        wait_for_port(self.ports.blob, "Azurite", self._spawn_azurite(), timeout)

    def _spawn_azurite(self) -> subprocess.Popen[bytes]:
        self._azurite = self._spawn(
            "azurite",
            [
                str(NODE_BIN / "azurite"),
                "--silent",
                "--disableTelemetry",
                "--skipApiVersionCheck",
                "--location", str(self.data_dir),
                "--blobHost", "127.0.0.1", "--blobPort", str(self.ports.blob),
                "--queueHost", "127.0.0.1", "--queuePort", str(self.ports.queue),
                "--tableHost", "127.0.0.1", "--tablePort", str(self.ports.table),
            ],
        )  # fmt: skip
        return self._azurite

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{name}.log").open("ab")
        self._logs.append(log)
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "AZURITE_DISABLE_TELEMETRY": "true"},
        )
        self.processes.append(process)
        return process

    def stop(self, timeout: float = 10) -> None:
        _terminate(self.processes, timeout)
        self.processes.clear()
        self._azurite = None
        for log in self._logs:
            log.close()
        self._logs.clear()


def _terminate(processes: list[subprocess.Popen[bytes]], timeout: float) -> None:
    for process in processes:
        _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
