"""The HTTP transport under every Azure SDK client the app builds (Cosmos DB, Blob Storage, ACS,
Azure AI Speech): a ``requests`` session of its own per client, with

- a connection pool as large as the worker's concurrency. azure-core's default session keeps
  10 connections per host; with more threads than that, every request beyond the tenth opened a
  new TCP connection and TLS handshake and dropped it afterwards. The pool is sized from
  ``PYTHON_THREADPOOL_THREAD_COUNT`` (``Settings.worker_threads``), plus room for the calls a
  request makes in parallel (the audit events of a page spanning families, the health probes).
  Connections are opened only when needed, so the size is a ceiling, not a cost.
- no proxy taken from the environment. ``requests`` looks up ``*_PROXY``/``NO_PROXY`` (and
  ``.netrc``, and its CA bundle variables) on every request when ``trust_env`` is on, which the
  hundred-odd variables the Functions host sets make measurably slow; and a proxy must be a
  decision, not an accident of the environment. A borough that needs one sets
  ``OUTBOUND_PROXY_URL``, and then every SDK call goes through it.

azure-core's ``RequestsTransport`` uses a session it is given as it is (it configures only a
session it creates itself), so the session here also disables urllib3's own retries, as
azure-core's does: retrying is the pipeline's retry policy's job. An SDK client given a transport
no longer builds one from its own keyword arguments, so the connection options (timeouts, the CA
to verify with) go to ``build_transport``, not to the client.

The managed identity credential (``DefaultAzureCredential``) keeps its own transport: it asks
for a token rarely, and the identity endpoint on the instance must not go through a proxy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.settings import Settings

if TYPE_CHECKING:
    from azure.core.pipeline.transport import RequestsTransport

# Calls one request makes in parallel on one client, beyond its own thread: the audit events of
# a list or sync page spanning several families go out together, at most eight at a time.
PARALLEL_CALLS_PER_REQUEST = 8
# Hosts one client talks to (an account's endpoint, its regional endpoints); one pool each.
HOSTS_PER_CLIENT = 4
# urllib3 sends a body in blocks of this many bytes (its default is 8 KiB), as azure-core does.
SEND_BLOCK_BYTES = 32 * 1024


def pool_size(settings: Settings) -> int:
    """Connections kept per host: the worker's threads and the calls a request fans out."""
    return settings.worker_threads + PARALLEL_CALLS_PER_REQUEST


def proxies(settings: Settings) -> dict[str, str]:
    """The proxy for every scheme, from the setting alone (empty: none)."""
    url = settings.outbound_proxy_url.strip()
    return {"http": url, "https": url} if url else {}


def build_transport(
    settings: Settings, *, connections: int | None = None, **connection: Any
) -> RequestsTransport:
    """A transport for one SDK client; ``connections`` per host, by default ``pool_size``.
    ``connection``: azure-core's connection options (``connection_timeout``, ``read_timeout``,
    ``connection_verify``), the defaults of every request the transport sends."""
    import requests
    from azure.core.pipeline.transport import RequestsTransport
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    class PooledAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("blocksize", SEND_BLOCK_BYTES)
            super().init_poolmanager(*args, **kwargs)

    session = requests.Session()
    session.trust_env = False
    session.proxies.update(proxies(settings))
    adapter = PooledAdapter(
        pool_connections=HOSTS_PER_CLIENT,
        pool_maxsize=connections or pool_size(settings),
        max_retries=Retry(total=False, redirect=False, raise_on_status=False),
    )
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return RequestsTransport(
        session=session, session_owner=True, use_env_settings=False, **connection
    )
