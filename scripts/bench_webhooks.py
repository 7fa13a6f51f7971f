"""The webhook part of `make bench`: deliveries per second, from the outbox to the acknowledgement.

On a throwaway PostgreSQL database (skipped, with the reason printed, when there is none):
a Mihwar subscription points at a local HTTPS receiver that answers 200 at once
(bench_receiver.py, under uvicorn). With one delivery worker (`partner-gateway worker`)
running, then two, 5000 events are committed to the outbox in one transaction; the clock
runs from that commit until every one of their deliveries is written back as delivered.
That is the whole way: the relay fans each event out, the sender signs and POSTs it, and
the outcome is recorded. Also printed: p50 and p99 of each event's own time, from its
commit to its delivery's write-back.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bench_mihwar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EVENTS = 5000


def run(markdown_table: Callable[[list[str], list[list[str]]], str], bin_dir: Path, base_env: dict[str, str]) -> None:
    database_url = bench_mihwar.postgres_database()
    if database_url is None:
        print("\nWebhooks: skipped, PostgreSQL is not reachable (scripts/postgres-test-database failed).")
        return
    from tests.webhook_receiver import certificate_authority

    instance = Path(base_env["INSTANCE_DIR"])
    (instance / "webhook-tls").mkdir()
    ca, certificate, key = certificate_authority(instance / "webhook-tls")
    env = {
        **base_env,
        "DATABASE_URL": database_url,
        "WEBHOOK_ALLOWED_ADDRESSES": "127.0.0.1/32",
        "WEBHOOK_CA_FILE": str(ca),
    }
    port = bench_mihwar._free_port()
    receiver = None
    try:
        subprocess.run([bin_dir / "partner-gateway", "setup"], cwd=ROOT, env=env, check=True, stderr=subprocess.DEVNULL)
        receiver = subprocess.Popen(
            [
                str(bin_dir / "uvicorn"),
                "bench_receiver:app",
                "--port",
                str(port),
                "--ssl-certfile",
                str(certificate),
                "--ssl-keyfile",
                str(key),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            cwd=ROOT / "scripts",
            env=env,
            start_new_session=True,
        )
        _wait_for_port(port)
        rows = []
        for workers in (1, 2):
            rate, p50, p99 = _round(database_url, env, bin_dir, instance, port, workers)
            rows.append([f"{workers} worker{'s' if workers > 1 else ''}", f"{rate:.0f}", f"{p50:.0f}", f"{p99:.0f}"])
        print(
            f"\nWebhooks on PostgreSQL: {EVENTS} events committed at once, each delivered over HTTPS to a local "
            "receiver answering 200; from the commit to the last delivery written back as delivered\n"
        )
        print(markdown_table(["delivery workers", "deliveries/s", "p50 ms", "p99 ms"], rows))
        print(f"\ntwo workers / one = {float(rows[1][1]) / float(rows[0][1]):.2f}x")
    finally:
        if receiver is not None:
            os.killpg(receiver.pid, signal.SIGTERM)
            receiver.wait(timeout=30)
        bench_mihwar.drop_database(database_url)


def _round(
    database_url: str, env: dict[str, str], bin_dir: Path, instance: Path, port: int, workers: int
) -> tuple[float, float, float]:
    """Deliveries per second, and p50/p99 of commit-to-write-back in ms, with `workers` workers."""
    from sqlalchemy import text

    from core.config import Settings
    from core.database import Database
    from core.unit_of_work import UnitOfWork

    settings = Settings.from_env(env)
    database = Database(database_url)

    def unit() -> UnitOfWork:
        return UnitOfWork(database, settings)

    subscription = _subscribe(unit, f"https://127.0.0.1:{port}/bench-{workers}")
    processes = []
    for number in range(workers):
        log = (instance / f"webhook-worker-{workers}-{number}.log").open("w")
        processes.append(
            subprocess.Popen(
                [str(bin_dir / "partner-gateway"), "worker", "--interval", "0.2"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        )
    try:
        time.sleep(3)  # the workers start, and find nothing to do
        started = _publish(unit, subscription)
        count = text("SELECT count(*) FROM webhook_deliveries WHERE subscription_id = :id AND status = 'delivered'")
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            with database.engine.connect() as connection:
                if connection.scalar(count, {"id": subscription}) == EVENTS:
                    break
            time.sleep(0.02)
        else:
            raise RuntimeError(f"the deliveries of {workers} worker(s) did not finish in 300 s")
        elapsed = time.monotonic() - started
        with database.engine.connect() as connection:
            latencies = list(
                connection.scalars(
                    text(
                        "SELECT extract(epoch FROM delivered_at - occurred_at) * 1000 FROM webhook_deliveries "
                        "WHERE subscription_id = :id"
                    ),
                    {"id": subscription},
                )
            )
        percentiles = statistics.quantiles([float(value) for value in latencies], n=100)
        return EVENTS / elapsed, percentiles[49], percentiles[98]
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
        database.dispose()


def _subscribe(unit: Callable[[], Any], url: str) -> str:
    from sqlalchemy import select

    from core.webhooks import WebhookSettings
    from models.mihwar.accounts import SignedIn
    from models.mihwar.tables import ADMIN, Organization
    from models.mihwar.webhooks import SubscriptionService

    allowed = WebhookSettings.from_env({"WEBHOOK_ALLOWED_ADDRESSES": "127.0.0.1/32"})
    with unit() as work:
        organization = work.session.scalars(select(Organization).limit(1)).one()
        admin = SignedIn("bench", organization.id, frozenset({ADMIN}))
        subscription = SubscriptionService(work, allowed).create(admin, url, ["order.created"]).subscription
        work.commit()
        return str(subscription.id)


def _publish(unit: Callable[[], Any], subscription: str) -> float:
    """Commit EVENTS order.created events of the subscription's organization; when it committed."""
    from models.mihwar.events import ORDER_CREATED, publish
    from models.mihwar.tables import WebhookSubscription

    with unit() as work:
        organization_id = work.session.get_one(WebhookSubscription, subscription).organization_id
        for number in range(EVENTS):
            payload = {"orderId": f"bench-{number}", "status": "DRAFT", "createdAt": "2026-12-02T00:00:00.000Z"}
            publish(work, ORDER_CREATED, payload, organization_id=organization_id, key=f"bench-{number}")
        work.commit()
    return time.monotonic()


def _wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the receiver did not listen on {port}")
