"""The receiver the README gives for Mihwar webhooks, run as written: real deliveries are
accepted once, a retry acknowledged again, a stale timestamp and a forgery refused."""

from __future__ import annotations

import os
import re
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import select

from core.columns import aware, utcnow
from core.config import Settings
from core.unit_of_work import UnitOfWork
from core.webhooks import WebhookDelivery, WebhookRequest
from core.webhooks.registry import Message
from models.mihwar.ordering import OrderedLine, Orders
from models.mihwar.tables import InventoryItem
from models.mihwar.webhooks import MihwarWebhooks
from tests.conftest import free_port
from tests.mihwar.conftest import Tenant, deliver
from tests.mihwar.test_delivery_faults import subscribe

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_receiver() -> str:
    """The Python block that follows the `<!-- receiver.py -->` marker in the README."""
    found = re.search(r"<!-- receiver\.py -->\n```python\n(.*?)```", README.read_text(), re.DOTALL)
    assert found, "the README's receiver snippet is missing"
    return found.group(1)


@contextmanager
def receiver_process(script: Path, port: int, secret: str, tls: tuple[Path, Path, Path]) -> Iterator[list[str]]:
    """The script running as the README says to run it; yields the lines it printed (once it has stopped)."""
    env = {**os.environ, "MIHWAR_WEBHOOK_SECRET": secret, "CERT": str(tls[1]), "KEY": str(tls[2]), "PORT": str(port)}
    process = subprocess.Popen(  # noqa: S603 - the README's own snippet
        [sys.executable, str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    printed: list[str] = []
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                assert process.poll() is None, "the README's receiver stopped"
                assert time.monotonic() < deadline, "the README's receiver did not listen"
                time.sleep(0.05)
        yield printed
    finally:
        process.terminate()
        printed.extend(process.communicate(timeout=10)[0].splitlines())


def delivery_request(unit: UnitOfWork, subscription_id: str) -> WebhookRequest:
    """The subscription's delivery, signed now, as the sender would send it again."""
    unit.session.expire_all()
    delivery = unit.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    ).one()
    target = MihwarWebhooks().target(unit, subscription_id)
    assert target is not None
    message = Message(
        delivery.event_id, delivery.event_type, aware(delivery.occurred_at), delivery.payload, utcnow(), 2
    )
    request = MihwarWebhooks().request(message, target)
    return WebhookRequest(request.body, {**request.headers, "Content-Type": "application/json"})


def test_the_readme_receiver_accepts_real_deliveries_and_refuses_forgeries(
    tmp_path: Path,
    tls: tuple[Path, Path, Path],
    local_settings: Settings,
    unit: UnitOfWork,
    tenant: Tenant,
    item: InventoryItem,
) -> None:
    port = free_port()
    subscription = subscribe(unit, tenant, f"https://127.0.0.1:{port}")
    script = tmp_path / "receiver.py"
    script.write_text(readme_receiver())

    url = f"https://127.0.0.1:{port}{subscription.path}"
    trust = ssl.create_default_context(cafile=str(tls[0]))
    with receiver_process(script, port, subscription.secret, tls) as printed:
        order = Orders(unit).create(tenant.id, [OrderedLine("COF-1KG", 3)])
        unit.commit()
        deliver(local_settings)
        delivered = delivery_request(unit, subscription.id)
        again = httpx.post(url, content=delivered.body, headers=delivered.headers, verify=trust)  # a retry
        stale = dict(delivered.headers, **{"webhook-timestamp": str(int(time.time()) - 600)})
        replayed = httpx.post(url, content=delivered.body, headers=stale, verify=trust)
        forged = httpx.post(
            url,
            content=b'{"event":"order.created"}',
            headers={"X-Mihwar-Signature": "sha256=" + "0" * 64, "Content-Type": "application/json"},
            verify=trust,
        )

    assert forged.status_code == 401
    assert replayed.status_code == 401
    assert again.status_code == 204
    events = [line for line in printed if line.startswith("order.created ")]
    assert len(events) == 1, printed
    assert order.id in events[0]
    unit.session.expire_all()
    delivery = unit.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
    ).one()
    assert (delivery.status, delivery.last_status) == ("delivered", 204)
