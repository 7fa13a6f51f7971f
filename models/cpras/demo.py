"""CPRAS demo data: a PrintPLANR client holding every scope (with a public demo secret); the
procurement data of the source document's examples, loaded through the importer; a buyer's
and a supplier's operator of the Print Orders area; and a few print orders."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from core.passwords import hash_password
from core.unit_of_work import UnitOfWork
from models.cpras import scopes
from models.cpras.clients import Clients
from models.cpras.procurement import import_rows
from models.cpras.settings import CprasSettings
from models.cpras.tables import Operator, PrintOrder, Supplier

DEMO_CLIENT_ID = "printplanr-demo"
DEMO_BUYER_OPERATOR = "wdc.buyer"
DEMO_SUPPLIER_OPERATOR = "acme.ops"


def _derived(purpose: str, name: str) -> str:
    digest = hmac.new(purpose.encode(), name.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def demo_client_secret() -> str:
    """The (public) demo client's secret: derived from its id, never stored."""
    return _derived("cpras demo client", DEMO_CLIENT_ID)


def demo_operator_password(username: str) -> str:
    """A demo operator's (public) password: derived from the name, never stored."""
    return _derived("cpras demo operator", username)[:20]


def ensure_demo_client(unit: UnitOfWork) -> bool:
    """The demo client, made if missing; whether it was made."""
    clients = Clients(unit)
    if clients.find(DEMO_CLIENT_ID) is not None:
        return False
    clients.create(DEMO_CLIENT_ID, "PrintPLANR (demo)", scopes.ALL, secret=demo_client_secret())
    return True


def _procurement(today: date) -> dict[str, list[dict[str, Any]]]:
    """The source document's examples, with contract lots in effect around `today`."""
    start, end = (today - timedelta(days=90)).isoformat(), (today + timedelta(days=700)).isoformat()
    return {
        "buyers": [
            {"buyer_id": "buyer_101", "org_name": "Warwick District Council", "email": "user@wdc.gov.uk"},
        ],
        "suppliers": [
            {
                "supplier_id": "sup_123",
                "company_name": "Acme Print Ltd",
                "primary_email": "ops@acmeprint.co.uk",
            },
            {
                "supplier_id": "sup_456",
                "company_name": "Leamington Litho Ltd",
                "primary_email": "orders@leamlitho.co.uk",
            },
        ],
        "frameworks": [{"framework_id": "fw_wdc_print", "title": "WDC Print Services"}],
        "lots": [
            {"lot_id": "lot_1", "framework_id": "fw_wdc_print", "lot_code": "LOT1", "title": "General Print"},
            {"lot_id": "lot_2", "framework_id": "fw_wdc_print", "lot_code": "LOT2", "title": "Large Format"},
        ],
        "projects": [
            {
                "project_id": "proj_wdc_2025",
                "name": "WDC Print 2025",
                "framework_id": "fw_wdc_print",
                "buyer_id": "buyer_101",
                "pricing_display": "as_is",
            },
        ],
        "contracts": [
            {
                "contract_id": "ctr_789",
                "framework_id": "fw_wdc_print",
                "supplier_id": "sup_123",
                "project_id": "proj_wdc_2025",
            },
            {
                "contract_id": "ctr_790",
                "framework_id": "fw_wdc_print",
                "supplier_id": "sup_456",
                "project_id": "proj_wdc_2025",
            },
        ],
        "contract-lots": [
            {"contract_id": "ctr_789", "lot_id": "lot_1", "effective_from": start, "effective_to": end},
            {"contract_id": "ctr_789", "lot_id": "lot_2", "effective_from": start, "effective_to": end},
            {"contract_id": "ctr_790", "lot_id": "lot_1", "effective_from": start, "effective_to": end},
        ],
    }


def _orders(now: datetime) -> list[PrintOrder]:
    statuses = ["pending", "in_production", "dispatched", "completed", "pending", "completed"]
    orders = []
    for number in range(1, 25):  # more than a page of the Print Orders area
        status = statuses[(number - 1) % len(statuses)]
        when = now - timedelta(hours=7 * number)
        orders.append(
            PrintOrder(
                order_id=f"pp_order_{550 + number}",
                buyer_id="buyer_101",
                project_id="proj_wdc_2025",
                lot_id="lot_1" if number % 2 else "lot_2",
                supplier_id="sup_123" if number % 3 else "sup_456",
                total=Decimal("1234.56") + 100 * number,
                currency="GBP",
                status=status,
                last_event_at=when,
                last_event_id=f"evt_demo_{number:03}",
                created_at=when,
                updated_at=when,
            )
        )
    return orders


def load_demo_data(unit: UnitOfWork, settings: CprasSettings) -> bool:
    # The demo client's secret is public: it joins only a database with no client of its own.
    made = not Clients(unit).all() and ensure_demo_client(unit)
    if unit.session.scalar(select(Supplier.supplier_id).limit(1)) is not None:
        return made
    for kind, rows in _procurement(date.today()).items():
        import_rows(unit, kind, rows, source=f"demo {kind}")
    for username, buyer, supplier in (
        (DEMO_BUYER_OPERATOR, "buyer_101", None),
        (DEMO_SUPPLIER_OPERATOR, None, "sup_123"),
    ):
        password = hash_password(demo_operator_password(username))
        unit.session.add(Operator(username=username, password_hash=password, buyer_id=buyer, supplier_id=supplier))
    if unit.session.scalar(select(PrintOrder.order_id).limit(1)) is None:
        unit.session.add_all(_orders(datetime.now(UTC)))
    unit.session.flush()
    return True
