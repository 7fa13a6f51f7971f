"""The Mihwar part of `make bench`: ingestion, memory, cursor pages at scale, GETs beside imports.

On a throwaway PostgreSQL database (skipped, with the reason printed, when there is none):

1. one 5000-line ingestion, end to end through HTTP, on the project (one worker, each
   request with an Idempotency-Key of its own) and on the stock Connexion path doing the
   same work (bench_references.stock_mihwar_app): p50 and p99 of sequential requests;
2. the project worker's peak RSS (VmHWM) before and after those ingestions;
3. GET /orders, first page and a page deep into the list, for an organization with
   10,000 order lines and one with 1,000,000 (built here with INSERT … SELECT over
   generate_series, not through the API);
4. the p99 of a GET load alone, and beside a client sending 5000-line ingestions back to back.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
INGEST = "/mihwar/api/integrations/v1/ingestion/order-lines"
ORDERS = "/mihwar/api/integrations/v1/orders"
ITEMS = "/mihwar/api/integrations/v1/inventory/items?limit=50"
LINES_PER_ORDER = 4


def postgres_database() -> str | None:
    """A fresh PostgreSQL database's URL, or None when PostgreSQL cannot be reached."""
    try:
        made = subprocess.run(
            [str(ROOT / "scripts" / "postgres-test-database")], capture_output=True, text=True, check=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return made.stdout.strip() or None


def demo_credentials(bin_dir: Path, env: dict[str, str]) -> Any:
    """Migrate and load demo data into the database `env` names; every API's demo credentials."""
    subprocess.run([bin_dir / "partner-gateway", "setup"], cwd=ROOT, env=env, check=True, stderr=subprocess.DEVNULL)
    printed = subprocess.run(
        [bin_dir / "partner-gateway", "demo-credentials"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return json.loads(printed.stdout)


def drop_database(url: str) -> None:
    subprocess.run([str(ROOT / "scripts" / "postgres-test-database"), "--drop", url.rsplit("/", 1)[1]], check=False)


def ingestion_body(lines: int = 5000) -> bytes:
    """`lines` lines over the demo roaster's SKUs, a year of days, as an ERP export sends them."""
    from models.mihwar.demo import DEMO_ORGANIZATIONS

    skus = [item.sku for item in DEMO_ORGANIZATIONS[0].items]
    rows = [
        {
            "sku": skus[index % len(skus)],
            "itemName": f"Item {index % len(skus)}",
            "orderedQty": 1 + index % 9,
            "orderDate": f"2025-{1 + index % 12:02d}-{1 + index % 28:02d}",
            "deliveredQty": 1 + index % 9,
        }
        for index in range(lines)
    ]
    return json.dumps({"periodKind": "DAY", "externalSourceId": "bench", "lines": rows}).encode()


def post(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    connection.request("POST", path, body, {"Content-Type": "application/json", **headers})
    response = connection.getresponse()
    response.read()
    elapsed = time.perf_counter() - started
    connection.close()
    return response.status, elapsed * 1000


@dataclass
class Latency:
    name: str
    p50_ms: float
    p99_ms: float
    errors: int


def ingestion_latency(name: str, port: int, headers: dict[str, str], body: bytes, requests: int) -> Latency:
    """Sequential ingestions (after 3 warm-up ones), each with an Idempotency-Key of its own."""
    for index in range(3):
        post(port, INGEST, body, {**headers, "Idempotency-Key": f"warm-{name}-{index}-{time.time()}"})
    timings, errors = [], 0
    for index in range(requests):
        status, ms = post(port, INGEST, body, {**headers, "Idempotency-Key": f"bench-{name}-{index}-{time.time()}"})
        timings.append(ms)
        errors += status != 201
    timings.sort()
    return Latency(name, statistics.median(timings), timings[min(len(timings) - 1, int(len(timings) * 0.99))], errors)


def worker_pids(master_pid: int) -> list[int]:
    """The gunicorn master's worker processes (its children running the app)."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def build_order_lines(database_url: str, organization_id: str, tag: str, item_id: str, lines: int) -> None:
    """`lines` purchase-order lines (in orders of LINES_PER_ORDER), one statement per table."""
    from sqlalchemy import create_engine, text

    orders = lines // LINES_PER_ORDER
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                """
                INSERT INTO mihwar_purchase_orders
                    (id, organization_id, reference, status, currency, total_cost, created_at, updated_at)
                SELECT 'po_' || :tag || '_' || n, :org, 'PO-' || n, (ARRAY['DRAFT','SUBMITTED','APPROVED'])[1 + n % 3],
                       'SAR', 100, timestamptz '2024-01-01' + n * interval '1 minute',
                       timestamptz '2024-01-01' + n * interval '1 minute'
                FROM generate_series(1, :orders) AS n
                """
            ),
            {"org": organization_id, "tag": tag, "orders": orders},
        )
        connection.execute(
            text(
                """
                INSERT INTO mihwar_purchase_order_lines (id, order_id, item_id, ordered_qty, received_qty, unit_cost)
                SELECT 'pol_' || :tag || '_' || n || '_' || l, 'po_' || :tag || '_' || n, :item, 1 + l, 0, 2.5
                FROM generate_series(1, :orders) AS n, generate_series(1, :per_order) AS l
                """
            ),
            {"tag": tag, "orders": orders, "item": item_id, "per_order": LINES_PER_ORDER},
        )
        connection.execute(text("ANALYZE mihwar_purchase_orders"))
        connection.execute(text("ANALYZE mihwar_purchase_order_lines"))
    engine.dispose()


@dataclass(frozen=True)
class ListTarget:
    label: str
    path: str
    headers: dict[str, str]


def list_targets(database_url: str, instance: Path, env: dict[str, str]) -> list[ListTarget]:
    """Two organizations, with 10,000 and 1,000,000 order lines; the first page of each and a
    page 90% of the way into each (its cursor made as the service makes them)."""
    os.environ.update({"INSTANCE_DIR": str(instance), "DATABASE_URL": database_url})
    from core.api import configure, registered
    from core.config import Settings
    from core.cursors import CursorCodec
    from core.database import Database
    from core.unit_of_work import UnitOfWork
    from handlers.mihwar.api import API
    from models.mihwar.keys import Tenants
    from models.mihwar.listing import _scope
    from models.mihwar.tables import ENTERPRISE, InventoryItem

    settings = configure(Settings.from_env(env), registered())
    codec = CursorCodec(API.config(settings).cursor_secret)
    database = Database(database_url)
    targets = []
    for lines in (10_000, 1_000_000):
        with UnitOfWork(database, settings) as unit:
            tenants = Tenants(unit)
            organization = tenants.create_organization(f"bench-{lines}", f"Bench {lines}", ENTERPRISE)
            key = tenants.create_key(organization, "bench")
            item = InventoryItem(organization_id=organization.id, sku="BENCH-1", name="Bench item")
            unit.session.add(item)
            unit.session.flush()
            organization_id, item_id = organization.id, item.id
            unit.commit()
        started = time.monotonic()
        tag = f"b{len(targets)}"
        build_order_lines(database_url, organization_id, tag, item_id, lines)
        print(f"  built {lines:,} order lines in {time.monotonic() - started:.1f}s")
        deep = int(lines // LINES_PER_ORDER * 0.9)
        created = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=deep)
        cursor = codec.encode(_scope("orders", organization_id, None, None), [created, f"po_{tag}_{deep}"])
        headers = {"Authorization": f"Bearer {key.secret}"}
        targets.append(ListTarget(f"{lines:,} lines, first page", f"{ORDERS}?limit=50", headers))
        targets.append(ListTarget(f"{lines:,} lines, 90% deep", f"{ORDERS}?limit=50&cursor={cursor}", headers))
    database.dispose()
    return targets


class BackToBack:
    """A client sending 5000-line ingestions back to back while a `with` block runs."""

    def __init__(self, port: int, headers: dict[str, str], body: bytes) -> None:
        self.port, self.headers, self.body = port, headers, body
        self.stop = threading.Event()
        self.sent = 0
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            post(self.port, INGEST, self.body, {**self.headers, "Idempotency-Key": f"beside-{time.time()}"})
            self.sent += 1

    def __enter__(self) -> BackToBack:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self.thread.join()


def run(
    server_class: Callable[..., Any],
    measure: Callable[[Any, str, dict[str, str]], tuple[float, float, float, int]],
    markdown_table: Callable[[list[str], list[list[str]]], str],
    bin_dir: Path,
    base_env: dict[str, str],
    instance: Path,
) -> None:
    """Print the Mihwar figures; `server_class(name, command, env, port, headers, path)` (a
    started server) and `measure(server, path, headers)` come from scripts/bench."""
    database_url = postgres_database()
    if database_url is None:
        print("\nMihwar: skipped, PostgreSQL is not reachable (scripts/postgres-test-database failed).")
        return
    env = {**base_env, "DATABASE_URL": database_url, "MIHWAR_RATE_LIMITS_DISABLED": "1", "RUN_WORKER": "0"}
    servers: list[Any] = []
    try:
        credentials = demo_credentials(bin_dir, env)
        headers = {"Authorization": credentials["mihwar"]["acme-coffee"]["authorization"]}
        port, stock_port = _free_port(), _free_port()
        project = server_class(
            "project (make run, 1 worker)",
            [str(bin_dir / "gunicorn"), "--config", "gunicorn.conf.py", "core.factory:create_app()"],
            {**env, "WEB_CONCURRENCY": "1", "PORT": str(port)},
            port,
            headers,
            ITEMS,
        )
        servers.append(project)
        stock = server_class(
            "stock Connexion, same work",
            [
                str(bin_dir / "uvicorn"),
                "--factory",
                "bench_references:stock_mihwar_app",
                "--port",
                str(stock_port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            {**env, "BEARERINFO_FUNC": "bench_references.mihwar_key_info"},
            stock_port,
            headers,
            "/mihwar/openapi.json",
        )
        servers.append(stock)
        body = ingestion_body()
        worker = worker_pids(project.process.pid)[0]
        rss_before = peak_rss_mb(worker)
        results = [
            ingestion_latency("project", port, headers, body, 30),
            ingestion_latency("stock", stock_port, headers, body, 30),
        ]
        rss_after = peak_rss_mb(worker)
        print(
            f"\nMihwar on PostgreSQL: one 5000-line ingestion ({len(body) / 1024:.0f} KiB) end to end, "
            "30 sequential requests after 3 warm-up ones, one worker each\n"
        )
        print(
            markdown_table(
                ["path", "p50 ms", "p99 ms", "errors"],
                [
                    [
                        "project (make run, 1 worker)",
                        f"{results[0].p50_ms:.1f}",
                        f"{results[0].p99_ms:.1f}",
                        str(results[0].errors),
                    ],
                    [
                        "stock Connexion, same work",
                        f"{results[1].p50_ms:.1f}",
                        f"{results[1].p99_ms:.1f}",
                        str(results[1].errors),
                    ],
                ],
            )
        )
        print(f"\nstock / project p50 = {results[1].p50_ms / results[0].p50_ms:.2f}x")
        print(
            f"project worker peak RSS: {rss_before:.1f} MB before the ingestions, {rss_after:.1f} MB after "
            f"(+{rss_after - rss_before:.1f} MB)"
        )

        print("\nMihwar cursor pages (GET /orders?limit=50, each order with its 4 lines):")
        targets = list_targets(database_url, instance, env)
        rows = []
        for target in targets:
            rps, p50, p99, errors = measure(project, target.path, target.headers)
            rows.append([target.label, f"{rps:.0f}", f"{p50:.2f}", f"{p99:.2f}", str(errors)])
        print()
        print(markdown_table(["page", "requests/s", "p50 ms", "p99 ms", "errors"], rows))
        p50s = [float(row[2]) for row in rows]
        print(f"\n1,000,000 / 10,000 lines, first page p50 = {p50s[2] / p50s[0]:.2f}x")
        print(f"1,000,000 / 10,000 lines, 90% deep p50   = {p50s[3] / p50s[1]:.2f}x")

        alone = measure(project, ITEMS, headers)
        with BackToBack(port, headers, body) as importer:
            beside = measure(project, ITEMS, headers)
        print(
            f"\nGET {ITEMS} on the same worker, alone and beside a client sending 5000-line ingestions back to back\n"
        )
        print(
            markdown_table(
                ["GET load", "requests/s", "p50 ms", "p99 ms", "errors"],
                [
                    ["alone", f"{alone[0]:.0f}", f"{alone[1]:.2f}", f"{alone[2]:.2f}", str(alone[3])],
                    [
                        f"beside ingestions ({importer.sent} sent)",
                        f"{beside[0]:.0f}",
                        f"{beside[1]:.2f}",
                        f"{beside[2]:.2f}",
                        str(beside[3]),
                    ],
                ],
            )
        )
        print(f"\np99 growth (beside / alone) = {beside[2] / alone[2]:.1f}x")
    finally:
        for server in servers:
            server.stop()
        drop_database(database_url)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
