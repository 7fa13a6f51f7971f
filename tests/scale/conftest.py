"""A scaled-out deployment for the tests: two web nodes and two background workers on one
PostgreSQL database and one Redis, started as an operator would start them and stopped at
the end of the module.

Each node is a gunicorn master of its own (`make run`'s command, two uvicorn workers, no
background worker of its own) on a port of its own; each worker is `partner-gateway
worker`. They share the test instance directory (so the development secrets and key rings
are the same everywhere), the database, and the Redis logical database `REDIS_URL` names,
which is emptied first (so give the test one of its own: CI uses redis://127.0.0.1:6379/7).
Webhooks may go to this machine, over HTTPS to the test certificate authority.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from redis import Redis

import tests.conftest as root
from core.config import PROJECT_ROOT, Settings
from tests.conftest import free_port

T = TypeVar("T")

GATEWAY = str(Path(sys.executable).with_name("partner-gateway"))
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
PROCESSES_PER_NODE = 2
IDL_ENDPOINT_LIMIT = 20  # per caller and operation, per minute: low, so the test can spend it
# A killed worker's deliveries come back once its lease runs out: 4 x (connect + total) + 30 s.
WEBHOOK_TIMEOUTS = {"WEBHOOK_CONNECT_TIMEOUT": "1", "WEBHOOK_TIMEOUT": "2"}
WEBHOOK_LEASE_SECONDS = 4 * (1 + 2) + 30
# Two lanes per subscription and worker, so a batch takes long enough to be killed in the middle.
WEBHOOK_LANES = "2"


@dataclass
class Node:
    """One web node: a gunicorn master and its workers, in a process group of their own."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, **options: Any) -> httpx.Response:
        """One request on a connection of its own (`options` as httpx takes them)."""
        return httpx.request(method, self.url + path, timeout=30, **options)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@dataclass
class BackgroundWorker:
    """One `partner-gateway worker` process and its log."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=45)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process.wait()


@dataclass
class Cluster:
    """The two nodes and the background workers, and how to start another worker."""

    nodes: tuple[Node, Node]
    workers: list[BackgroundWorker]
    environment: dict[str, str] = field(repr=False)
    logs: Path
    started: int = 0

    def start_worker(self) -> BackgroundWorker:
        """Another `partner-gateway worker` on the same database and Redis (stopped with the cluster)."""
        self.started += 1
        name = f"worker-{self.started}"
        log = self.logs / f"{name}.log"
        with log.open("ab") as output:
            process = subprocess.Popen(  # noqa: S603 - our own command
                [GATEWAY, "worker", "--interval", "0.2"],
                cwd=PROJECT_ROOT,
                env=self.environment,
                stdout=output,
                stderr=output,
                start_new_session=True,
            )
        worker = BackgroundWorker(name, process, log)
        self.workers.append(worker)
        return worker

    def stop_workers(self) -> None:
        for worker in self.workers:
            worker.stop()

    def alive_workers(self) -> list[BackgroundWorker]:
        return [worker for worker in self.workers if worker.process.poll() is None]


def environment(database: Settings, tls: tuple[Path, Path, Path], redis_url: str) -> dict[str, str]:
    """What every node and worker runs with: the tests' settings, with rate limits on and
    counted in Redis, IDL's per-operation limit low, and webhooks allowed to this machine."""
    env = {
        **os.environ,
        **root.test_environment(database.instance_dir),
        "DATABASE_URL": database.database_url,
        "REDIS_URL": redis_url,
        "IDL_RATE_LIMIT_PER_ENDPOINT": f"{IDL_ENDPOINT_LIMIT}/minute",
        "WEBHOOK_ALLOWED_ADDRESSES": "127.0.0.1/32",
        "WEBHOOK_CA_FILE": str(tls[0]),
        "WEBHOOK_CONCURRENCY_PER_SUBSCRIPTION": WEBHOOK_LANES,
        **WEBHOOK_TIMEOUTS,
    }
    for name in list(env):
        if name.endswith("RATE_LIMITS_DISABLED"):
            del env[name]
    return env


def start_node(name: str, env: dict[str, str], logs: Path) -> Node:
    """A gunicorn master as `make run` starts it, on a free port of its own."""
    port = free_port()
    log = logs / f"{name}.log"
    node_env = {**env, "PORT": str(port), "WEB_CONCURRENCY": str(PROCESSES_PER_NODE), "RUN_WORKER": "0"}
    node_env.pop("TRUSTED_PROXIES", None)
    with log.open("ab") as output:
        process = subprocess.Popen(  # noqa: S603 - our own server
            [GUNICORN, "--config", "gunicorn.conf.py", "core.factory:create_app()"],
            cwd=PROJECT_ROOT,
            env=node_env,
            stdout=output,
            stderr=output,
            start_new_session=True,
        )
    return Node(name, port, process, log)


def wait_until_serving(node: Node, timeout: float = 60) -> None:
    """Until the node answers (the master listens before its workers have booted)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if node.request("GET", "/order-accept/openapi.json").status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or node.process.poll() is not None:
            raise RuntimeError(f"{node.name} did not start:\n{node.log.read_text(errors='replace')}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def cluster(
    database: Settings, tls: tuple[Path, Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    redis_url = os.environ["REDIS_URL"]
    with Redis.from_url(redis_url) as redis:
        redis.flushdb()  # the budgets of earlier runs are gone
    env = environment(database, tls, redis_url)
    logs = tmp_path_factory.mktemp("scale")
    with ExitStack() as stack:
        nodes = (start_node("node-a", env, logs), start_node("node-b", env, logs))
        for node in nodes:
            stack.callback(node.stop)
        for node in nodes:
            wait_until_serving(node)
        running = Cluster(nodes, [], env, logs)
        stack.callback(running.stop_workers)
        running.start_worker()
        running.start_worker()
        yield running


def at_once(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Run every call in a thread of its own, released together by a barrier: their results, in order."""
    start = threading.Barrier(len(calls))

    def released(call: Callable[[], T]) -> T:
        start.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(released, calls))
