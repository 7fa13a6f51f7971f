"""SIGTERM under load, as a deployment or an orchestrator sends it to `make run`'s gunicorn.

The master stops accepting connections at once and lets its worker finish every request
it had taken, within GRACEFUL_TIMEOUT, then exits cleanly: no request that was in flight
fails, and each one's effect is whole. (What a background worker does with its batch on
SIGTERM is in tests/mihwar/test_delivery_faults.py.)
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import func, select

from core.cli import demo_credentials
from core.config import PROJECT_ROOT, Settings
from core.database import Database
from core.unit_of_work import UnitOfWork
from models.shared.tables import SessionFamily
from tests.conftest import free_port

LOGINS = 32


def _start(database: Settings, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "INSTANCE_DIR": str(database.instance_dir),
        "DATABASE_URL": database.database_url,
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "RUN_WORKER": "0",
        "RATE_LIMITS_DISABLED": "1",
        "GRACEFUL_TIMEOUT": "20",
        "PROMETHEUS_MULTIPROC_DIR": str(log.parent / "metrics"),
    }
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603 - our own server
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "--config",
                "gunicorn.conf.py",
                "core.factory:create_app()",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=output,
        )
    deadline = time.monotonic() + 30
    while True:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError(log.read_text()) from None
            time.sleep(0.1)
        finally:
            connection.close()


def _sessions(database: Settings) -> int:
    """IDL's login sessions, of every user."""
    db = Database(database.database_url)
    try:
        with UnitOfWork(db, database) as unit:
            query = select(func.count()).select_from(SessionFamily).where(SessionFamily.realm == "idl")
            return int(unit.session.scalar(query) or 0)
    finally:
        db.dispose()


def test_sigterm_under_load_fails_no_request_in_flight(database: Settings, tmp_path: Path) -> None:
    port = free_port()
    server = _start(database, port, tmp_path / "server.log")
    foreman = demo_credentials(database)["idl"]["foreman"]
    body = json.dumps({"email": foreman["email"], "password": foreman["password"]}).encode()
    sessions_before = _sessions(database)
    statuses: list[int | str] = []
    sent = threading.Barrier(LOGINS + 1)
    lock = threading.Lock()

    def login() -> None:
        """A login (an Argon2 verification and a session written), sent before the SIGTERM."""
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            connection.request("POST", "/idl/api/v1/auth/login", body, {"Content-Type": "application/json"})
            sent.wait()
            answer = connection.getresponse()
            answer.read()
            outcome: int | str = answer.status
        except OSError as error:
            outcome = f"{type(error).__name__}: {error}"
        finally:
            connection.close()
        with lock:
            statuses.append(outcome)

    threads = [threading.Thread(target=login) for _ in range(LOGINS)]
    for thread in threads:
        thread.start()
    sent.wait()
    time.sleep(0.2)  # the requests are read by the worker
    with lock:
        answered_before = len(statuses)
    server.send_signal(signal.SIGTERM)
    stopping = time.monotonic()

    refused = False
    while not refused and time.monotonic() - stopping < 5:  # the listener closes at once
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            time.sleep(0.05)
        except ConnectionRefusedError:
            refused = True
    for thread in threads:
        thread.join(timeout=60)
    code = server.wait(timeout=30)

    assert answered_before < LOGINS, "some requests were still in flight when SIGTERM came"
    assert statuses == [200] * LOGINS, (tmp_path / "server.log").read_text()[-3000:]
    assert refused, "new connections are refused once shutdown begins"
    assert code == 0
    assert _sessions(database) == sessions_before + LOGINS, "every login's session was written"
