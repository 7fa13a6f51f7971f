"""A fake PrintPLANR for tests: a real HTTP server on 127.0.0.1, in a thread.

`POST /v1/handoffs/{supplier,buyer}` checks what CPRAS sends (the bearer key, an
`Idempotency-Key`, and the payload against the spec's `SupplierHandoff` or `BuyerHandoff`),
records it, and answers a session URL on itself, unless told to fail the first N requests
(with a status, or by answering too late). `GET /session/{n}?code=…` plays PrintPLANR's
side of the SSO hand-off when it is given CPRAS's address and client credentials: it
exchanges the code at CPRAS's `sessions/consume` and shows a page linking back to CPRAS's
origin + `next`.
"""

from __future__ import annotations

import base64
import html
import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from core.validation import to_json_schema

API_KEY = "printplanr-test-key"
SCHEMAS = {"/v1/handoffs/supplier": "SupplierHandoff", "/v1/handoffs/buyer": "BuyerHandoff"}


def _validators(spec: Path) -> dict[str, Any]:
    schemas = to_json_schema(yaml.safe_load(spec.read_text())["components"]["schemas"])
    return {
        path: jsonschema_rs.Draft4Validator(
            {"$ref": f"#/components/schemas/{name}", "components": {"schemas": schemas}}
        )
        for path, name in SCHEMAS.items()
    }


@dataclass
class HandoffReceived:
    path: str
    headers: dict[str, str]
    payload: Any
    problems: list[str]


@dataclass
class FakePrintplanr:
    spec: Path
    port: int = 0
    received: list[HandoffReceived] = field(default_factory=list)
    failures: int = 0  # the first N hand-offs fail
    failure_status: int = 503  # ... with this status, or, if 0, by answering after `delay`
    delay: float = 0.0
    session_url: str | None = None  # answer this instead of a session URL on the fake itself
    # For the SSO hand-off: CPRAS's origin, and the client credentials to consume codes with.
    cpras_origin: str | None = None
    client_id: str = ""
    client_secret: str = ""
    consumed: list[Any] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handoffs(self) -> list[HandoffReceived]:
        with self.lock:
            return list(self.received)

    def consume(self, code: str) -> tuple[int, Any]:
        """Exchange `code` at CPRAS as PrintPLANR's backend would."""
        assert self.cpras_origin
        credentials = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        form = urllib.parse.urlencode({"grant_type": "client_credentials", "scope": "sessions:consume"}).encode()
        token_request = urllib.request.Request(  # noqa: S310 - a test's own server
            f"{self.cpras_origin}/cpras/oauth/token", data=form, headers={"Authorization": f"Basic {credentials}"}
        )
        with urllib.request.urlopen(token_request, timeout=10) as answer:  # noqa: S310 - a test's own server
            token = json.loads(answer.read())["access_token"]
        consume = urllib.request.Request(  # noqa: S310 - a test's own server
            f"{self.cpras_origin}/cpras/v1/partners/printplanr/sessions/consume",
            data=json.dumps({"code": code}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(consume, timeout=10) as answer:  # noqa: S310 - a test's own server
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as refused:
            return refused.code, json.loads(refused.read())


def _handler(fake: FakePrintplanr, validators: dict[str, Any]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class names it
            pass

        def answer(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            problems = []
            try:
                payload = json.loads(body)
            except ValueError:
                payload = None
                problems.append("not JSON")
            validator = validators.get(self.path)
            if validator is None:
                self.answer(404, b'{"error": "no such endpoint"}')
                return
            if payload is not None:
                for error in validator.iter_errors(payload):
                    problems.append(f"{'.'.join(map(str, error.instance_path))}: {error.message}")
            if headers.get("authorization") != f"Bearer {API_KEY}":
                problems.append("wrong Authorization")
            if not headers.get("idempotency-key"):
                problems.append("no Idempotency-Key")
            with fake.lock:
                fake.received.append(HandoffReceived(self.path, headers, payload, problems))
                number = len(fake.received)
                failing = number <= fake.failures
            if failing and fake.failure_status:
                self.answer(fake.failure_status, b'{"error": "unavailable"}')
                return
            if failing:
                time.sleep(fake.delay)
            if problems:
                self.answer(400, json.dumps({"problems": problems}).encode())
                return
            url = fake.session_url or f"{fake.base_url}/session/{number}"
            self.answer(201, json.dumps({"session_url": url}).encode())

        def do_GET(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            code = dict(urllib.parse.parse_qsl(parts.query)).get("code", "")
            if not parts.path.startswith("/session/") or not fake.cpras_origin:
                self.answer(404, b"not found", "text/plain")
                return
            status, answer = fake.consume(code)
            with fake.lock:
                fake.consumed.append((status, answer))
            if status != 200:
                page = f"<h1>PrintPLANR</h1><p>Session refused ({status}).</p>"
            else:
                back = html.escape(fake.cpras_origin + answer["next"], quote=True)
                project, lot = html.escape(answer["project_id"]), html.escape(answer["lot_id"])
                page = (
                    f"<h1>PrintPLANR</h1><p>Ordering for project {project}, lot {lot}.</p>"
                    f'<p><a id="back" href="{back}">Back to CPRAS</a></p>'
                )
            self.answer(200, f"<!doctype html><title>PrintPLANR</title>{page}".encode(), "text/html; charset=utf-8")

    return Handler


@contextmanager
def fake_printplanr(spec: Path, **options: Any) -> Iterator[FakePrintplanr]:
    fake = FakePrintplanr(spec, **options)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake, _validators(spec)))
    server.daemon_threads = True
    fake.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    """Serve the fake on a port of its own, to try the Print Orders journey by hand."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--cpras", default="http://localhost:8000", help="CPRAS's origin, to consume codes at")
    parser.add_argument("--client-id", required=True, help="the CPRAS OAuth client PrintPLANR is")
    parser.add_argument("--client-secret", required=True)
    args = parser.parse_args()
    spec = Path(__file__).resolve().parent.parent / "specs" / "cpras.yaml"
    fake = FakePrintplanr(
        spec, port=args.port, cpras_origin=args.cpras, client_id=args.client_id, client_secret=args.client_secret
    )
    server = ThreadingHTTPServer(("127.0.0.1", args.port), _handler(fake, _validators(spec)))
    print(f"fake PrintPLANR on {fake.base_url}; its API key is {API_KEY}")
    server.serve_forever()


if __name__ == "__main__":
    main()
