"""How a delivery reaches its receiver: one POST to the checked address, over kept-alive connections.

Each sending thread has connection pools of its own, one per destination (urllib3's; a
pool shared by the threads would have them queue on its lock, and urllib3 costs about
half what httpx does per request, measured with make bench). The connection goes to the
address `check_url` checked, while `Host`, SNI and the certificate check use the name in
the URL. Redirects are never followed, nothing is retried here (the schedule does that),
and only an excerpt of the answer is read: an answer longer than that closes its
connection rather than being read to its end.
"""

from __future__ import annotations

import ssl
import threading
from collections import OrderedDict
from dataclasses import dataclass

import urllib3
from urllib3.exceptions import HTTPError
from urllib3.exceptions import TimeoutError as Timeout

from core.webhooks.addresses import Destination
from core.webhooks.settings import WebhookSettings

POOLS_PER_THREAD = 32  # destinations a thread keeps connections to; the least recently used goes


@dataclass(frozen=True)
class Answer:
    status: int
    excerpt: str | None


class SendError(Exception):
    """No answer: the connection failed, or timed out (`timed_out`)."""

    def __init__(self, message: str, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


class Transport:
    def __init__(self, settings: WebhookSettings) -> None:
        self.settings = settings
        # Connecting may take `connect_timeout`; what is left of the total is for the answer.
        total = settings.total_timeout
        self.timeout = urllib3.Timeout(total=total, connect=min(settings.connect_timeout, total), read=total)
        self.tls = ssl.create_default_context()
        if settings.ca_file is not None:
            self.tls.load_verify_locations(cafile=str(settings.ca_file))
        self._local = threading.local()
        self._all: list[OrderedDict[tuple[str, str, int, str], urllib3.HTTPConnectionPool]] = []
        self._lock = threading.Lock()

    def post(self, destination: Destination, body: bytes, headers: dict[str, str]) -> Answer:
        pool = self._pool(destination)
        try:
            response = pool.urlopen(
                "POST",
                destination.target,
                body=body,
                headers={**headers, "Host": destination.host_header},
                retries=False,
                redirect=False,
                assert_same_host=False,
                preload_content=False,
                release_conn=False,
                timeout=self.timeout,
            )
            try:
                excerpt = response.read(self.settings.excerpt_bytes, decode_content=False)
                if response.read(1, decode_content=False):
                    response.close()  # longer than we read: the connection is not kept
            finally:
                response.release_conn()
        except Timeout as exc:
            raise SendError(f"timeout: {type(exc).__name__}", timed_out=True) from None
        except (HTTPError, OSError) as exc:
            raise SendError(f"{type(exc).__name__}: {exc}"[:500]) from None
        if not 100 <= response.status <= 599:
            raise SendError(f"an answer with the invalid status {response.status}")
        return Answer(response.status, excerpt.decode("utf-8", errors="replace") if excerpt else None)

    def close(self) -> None:
        with self._lock:
            every, self._all = self._all, []
        for pools in every:
            for pool in list(pools.values()):
                pool.close()

    def _pool(self, destination: Destination) -> urllib3.HTTPConnectionPool:
        pools: OrderedDict[tuple[str, str, int, str], urllib3.HTTPConnectionPool] | None = getattr(
            self._local, "pools", None
        )
        if pools is None:
            pools = self._local.pools = OrderedDict()
            with self._lock:
                self._all.append(pools)
        key = (destination.scheme, str(destination.address), destination.port, destination.host)
        pool = pools.get(key)
        if pool is None:
            pool = pools[key] = self._new_pool(destination)
            if len(pools) > POOLS_PER_THREAD:
                pools.popitem(last=False)[1].close()
        else:
            pools.move_to_end(key)
        return pool

    def _new_pool(self, destination: Destination) -> urllib3.HTTPConnectionPool:
        address = str(destination.address)
        if destination.scheme == "https":
            return urllib3.HTTPSConnectionPool(
                address, destination.port, maxsize=1, ssl_context=self.tls, server_hostname=destination.host
            )
        return urllib3.HTTPConnectionPool(address, destination.port, maxsize=1)
