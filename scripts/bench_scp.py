"""The SCP part of `make bench`: contract-scoped push and pull at scale, on PostgreSQL.

On a throwaway PostgreSQL database (skipped, with the reason printed, when there is none),
with the project serving on one gunicorn worker and one background worker (`partner-gateway
worker`, which stores accepted pushes):

1. a push of 10,000 records as JSON, as CSV and as XML, each timed from the request to its
   exchange log entry reading `completed`: records per second, end to end, and how long
   the request itself took (checking all 10,000 records before its 202);
2. the peak RSS (VmHWM) of the web worker and of the background worker after those pushes;
3. a CSV pull of 100,000 records (built with INSERT … SELECT over generate_series), written
   to its output file in batches and downloaded: seconds, and the web worker's peak RSS
   after it.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_mihwar import _free_port, demo_credentials, drop_database, peak_rss_mb, postgres_database, worker_pids

ROOT = Path(__file__).resolve().parent.parent
RECORDS = 10_000
PULLED = 100_000


def _records() -> list[dict[str, Any]]:
    return [
        {
            "beneficiary_ref": f"BENCH-{n}",
            "phone_number": f"+2547{n:08d}",
            "national_id": f"{40000000 + n}",
            "_consents": ["partner_data_sharing"],
        }
        for n in range(RECORDS)
    ]


def _upload(fmt: str, records: list[dict[str, Any]]) -> bytes:
    if fmt == "csv":
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(["beneficiary_ref", "phone_number", "national_id", "_consents"])
        for record in records:
            writer.writerow(
                [record["beneficiary_ref"], record["phone_number"], record["national_id"], "partner_data_sharing"]
            )
        return text.getvalue().encode()
    parts = ["<records>"]
    for record in records:
        parts.append(
            f"<record><beneficiary_ref>{record['beneficiary_ref']}</beneficiary_ref>"
            f"<phone_number>{record['phone_number']}</phone_number><national_id>{record['national_id']}</national_id>"
            "<_consents><consent>partner_data_sharing</consent></_consents></record>"
        )
    parts.append("</records>")
    return "".join(parts).encode()


def _call(base: str, method: str, path: str, headers: dict[str, str], body: bytes | None = None) -> Any:
    request = urllib.request.Request(base + path, data=body, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=600) as answer:
        data = answer.read()
    return json.loads(data) if data[:1] in (b"{", b"[") else data


def _multipart(fmt: str, data: bytes) -> tuple[bytes, str]:
    boundary = "benchboundary7d2f"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="format"\r\n\r\n{fmt}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="payload"; filename="records.{fmt}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def run(
    server_class: Callable[..., Any],
    markdown_table: Callable[[list[str], list[list[str]]], str],
    bin_dir: Path,
    base_env: dict[str, str],
) -> None:
    database_url = postgres_database()
    if database_url is None:
        print("\nSCP: skipped, PostgreSQL is not reachable (scripts/postgres-test-database failed).")
        return
    env = {**base_env, "DATABASE_URL": database_url, "SCP_RATE_LIMITS_DISABLED": "1", "RUN_WORKER": "0"}
    processes: list[Any] = []
    try:
        credentials = demo_credentials(bin_dir, env)
        headers = {"Authorization": credentials["scp"]["riverside-admin"]["authorization"]}
        port = _free_port()
        project = server_class(
            "project (make run, 1 worker)",
            [str(bin_dir / "gunicorn"), "--config", "gunicorn.conf.py", "core.factory:create_app()"],
            {**env, "WEB_CONCURRENCY": "1", "PORT": str(port)},
            port,
            headers,
            "/scp/openapi.json",
        )
        processes.append(project)
        worker = subprocess.Popen([bin_dir / "partner-gateway", "worker"], cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}/scp"
        (integration,) = _call(base, "GET", "/integrations?status=active&limit=1", headers)["items"]
        integration_id = integration["integration_id"]
        details = _call(base, "GET", f"/integrations/{integration_id}", headers)
        contract_id = next(c["contract_id"] for c in details["contracts"] if c["status"] == "active")
        push = f"/integrations/{integration_id}/data/push?contract_id={contract_id}"
        rows = []
        for fmt in ("json", "csv", "xml"):
            records = _records()
            if fmt == "json":
                body, kind = json.dumps({"payload": records}).encode(), "application/json"
            else:
                body, kind = _multipart(fmt, _upload(fmt, records))
            started = time.perf_counter()
            accepted = _call(base, "POST", push, {**headers, "Content-Type": kind}, body)
            answered = time.perf_counter() - started
            while True:
                log = _call(base, "GET", f"/integrations/{integration_id}/exchanges?limit=5", headers)["items"]
                entry = next(item for item in log if item["exchange_id"] == accepted["exchange_id"])
                if entry["status"] in ("completed", "failed"):
                    break
                time.sleep(0.05)
            total = time.perf_counter() - started
            rows.append(
                [
                    fmt,
                    f"{len(body) / 1e6:.1f} MB",
                    f"{answered:.2f} s",
                    f"{total:.2f} s",
                    f"{RECORDS / total:,.0f}",
                    entry["status"],
                ]
            )
        web = worker_pids(project.process.pid)[0]
        print(f"\nSCP: a push of {RECORDS:,} records, one web worker and one background worker, on PostgreSQL\n")
        print(markdown_table(["format", "body", "202 after", "stored after", "records/s (end to end)", "status"], rows))
        print(f"\npeak RSS: web worker {peak_rss_mb(web):.0f} MB, background worker {peak_rss_mb(worker.pid):.0f} MB")

        from sqlalchemy import create_engine, text

        engine = create_engine(database_url)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO scp_records "
                    "(tenant_id, integration_id, contract_id, exchange_id, fields, consents, created_at) "
                    "SELECT 'riverside-care', :integration, :contract, 'bench', json_build_object("
                    "'beneficiary_ref', 'P-' || n, 'phone_number', '+2547' || lpad(n::text, 8, '0'), "
                    "'national_id', (50000000 + n)::text), '[\"partner_data_sharing\"]'::json, now() "
                    "FROM generate_series(1, :count) AS n"
                ),
                {"integration": integration_id, "contract": contract_id, "count": PULLED},
            )
        engine.dispose()
        started = time.perf_counter()
        pulled = _call(
            base, "GET", f"/integrations/{integration_id}/data/pull?contract_id={contract_id}&format=csv", headers
        )
        written = time.perf_counter() - started
        data = _call(base.removesuffix("/scp"), "GET", pulled["output_url"], headers)
        total = time.perf_counter() - started
        print(
            f"\nA CSV pull of {pulled['record_count']:,} records: written in {written:.2f} s, downloaded "
            f"({len(data) / 1e6:.1f} MB) after {total:.2f} s; web worker peak RSS {peak_rss_mb(web):.0f} MB"
        )
        worker.terminate()
        worker.wait(timeout=30)
    finally:
        for process in processes:
            process.stop()
        drop_database(database_url)
