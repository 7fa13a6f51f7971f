"""The service as `make run` serves it (gunicorn, one uvicorn worker), over real sockets.

What only a real server shows: a 50 MB body is refused before it is read while the worker
goes on serving, and X-Forwarded-For is not believed from a peer nobody named a proxy.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.cli import demo_credentials
from core.config import PROJECT_ROOT, Settings
from tests.conftest import free_port

BIG = 50 * 1024 * 1024


@pytest.fixture(scope="module")
def server(database: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = free_port()
    env = {
        **os.environ,
        "INSTANCE_DIR": str(database.instance_dir),
        "DATABASE_URL": database.database_url,
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "RUN_WORKER": "0",
        "RATE_LIMITS_DISABLED": "1",
    }
    env.pop("TRUSTED_PROXIES", None)
    log = tmp_path_factory.mktemp("server") / "server.log"
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603 - our own server
            [str(gunicorn), "--config", "gunicorn.conf.py", "core.factory:create_app()"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=output,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while True:  # the master listens before its worker has booted: wait for an answer
            try:
                if _request(port, "GET", "/order-accept/openapi.json")[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(log.read_text()) from None
                time.sleep(0.1)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _request(port: int, method: str, path: str, body: bytes | None = None, **headers: str) -> tuple[int, Any, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    started = time.perf_counter()
    connection.request(
        method, path, body=body, headers={key.replace("_", "-"): value for key, value in headers.items()}
    )
    response = connection.getresponse()
    data = response.read()
    elapsed = time.perf_counter() - started
    connection.close()
    return response.status, json.loads(data) if data and data[:1] in b"[{" else None, elapsed


def test_a_50_mb_body_is_refused_before_it_is_sent(server: int, database: Settings) -> None:
    token = demo_credentials(database)["order_accept"]["alice"]["authorization"]
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    started = time.perf_counter()
    connection.putrequest("POST", "/order-accept/api/orders")
    connection.putheader("Authorization", token)
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(BIG))
    connection.endheaders()
    connection.send(b'{"items": [' + b" " * 65536)  # a start; the rest never needs to follow
    response = connection.getresponse()
    elapsed = time.perf_counter() - started
    body = json.loads(response.read())
    connection.close()

    assert response.status == 413
    assert body["detail"] == f"The request body is larger than {1024 * 1024} bytes."
    assert elapsed < 1.0


def test_the_worker_keeps_its_latency_while_a_50_mb_body_arrives(server: int, database: Settings) -> None:
    """A 50 MB body sent in chunks, slowly, with no Content-Length to trust: the worker serves
    others while it arrives, and refuses it once it passes the limit."""
    token = demo_credentials(database)["order_accept"]["alice"]["authorization"]
    chunk = b'{"productId":"AZ-700","quantity":1},' * 1800  # about 64 KiB
    outcome: dict[str, Any] = {}

    def upload() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
        connection.putrequest("POST", "/order-accept/api/orders")
        connection.putheader("Authorization", token)
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        sent = 0
        try:
            connection.send(b'a\r\n{"items":[\r\n')  # the opening, as a chunk of its own
            while sent < BIG and not select.select([connection.sock], [], [], 0)[0]:  # until it answers
                connection.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                sent += len(chunk)
                time.sleep(0.01)
        except (BrokenPipeError, ConnectionResetError):
            pass
        outcome["sent"] = sent
        try:
            response = connection.getresponse()
            outcome["status"] = response.status
        except (ConnectionError, http.client.HTTPException):
            outcome["status"] = None
        connection.close()

    alone = [_request(server, "GET", "/order-accept/api/products/AZ-700", Authorization=token)[2] for _ in range(20)]
    uploading = threading.Thread(target=upload)
    uploading.start()
    beside: list[float] = []
    while uploading.is_alive() and len(beside) < 200:
        beside.append(_request(server, "GET", "/order-accept/api/products/AZ-700", Authorization=token)[2])
    uploading.join(timeout=30)

    assert outcome["status"] == 413
    assert outcome["sent"] < 8 * 1024 * 1024, "refused once past the 1 MiB limit, long before 50 MB"
    assert len(beside) >= 5, "requests were served while the body arrived"
    assert max(beside) < max(0.2, 10 * max(alone)), (alone, beside)


def test_x_forwarded_for_is_not_believed_by_default(server: int, database: Settings) -> None:
    credentials = demo_credentials(database)["idl"]
    status, _, _ = _request(
        server,
        "POST",
        "/idl/api/v1/auth/login",
        json.dumps({"email": credentials["foreman"]["email"], "password": credentials["foreman"]["password"]}).encode(),
        Content_Type="application/json",
        X_Forwarded_For="203.0.113.77",
    )
    status_log, trail, _ = _request(
        server,
        "GET",
        "/idl/api/v1/audit-logs?action=login&limit=1",
        Authorization=credentials["admin"]["authorization"],
    )

    assert status == 200
    assert status_log == 200
    assert trail["data"][0]["ip_address"] == "127.0.0.1"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        pytest.param("APPLICATION/JSON", b"[]", id="upper-case-media-type"),
        pytest.param("application/json", b"[" * 1000 + b"]" * 1000, id="nested-1000-deep"),
        pytest.param("application/json", b'{"email": "a@b.c", "password": NaN}', id="nan"),
        pytest.param("application/json", b'{"email": "\\ud800", "password": "x"}', id="lone-surrogate"),
    ],
)
def test_bad_bodies_get_400_from_the_real_server(server: int, content_type: str, body: bytes) -> None:
    status, error, elapsed = _request(server, "POST", "/idl/api/v1/auth/login", body, Content_Type=content_type)

    assert status == 400
    assert error["error"]["code"] == "VALIDATION_ERROR"
    assert elapsed < 1.0
