"""The demo catalogue and demo customers, loaded into an empty database on first run."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources

from sqlalchemy import func, select

from core.unit_of_work import UnitOfWork
from models.order_accept.ordering import OrderService, RequestedLine
from models.order_accept.tables import Product


@dataclass(frozen=True)
class DemoCustomer:
    name: str
    user_id: str


DEMO_CUSTOMERS = (
    DemoCustomer("alice", "demo-customer-alice"),
    DemoCustomer("bob", "demo-customer-bob"),
)
_DEMO_ORDERS = {
    "demo-customer-alice": [
        [RequestedLine("AZ-700", 1), RequestedLine("AZ-104", 2)],
        [RequestedLine("SAA-C03", 1)],
    ],
    "demo-customer-bob": [[RequestedLine("CKA", 1)]],
}


def catalogue() -> list[dict[str, object]]:
    text = resources.files("models.order_accept").joinpath("demo_catalogue.json").read_text()
    products: list[dict[str, object]] = json.loads(text)
    return products


def load_demo_data(unit: UnitOfWork) -> bool:
    """Load the catalogue and demo orders unless products exist already; True when loaded."""
    session = unit.session
    if session.scalar(select(func.count()).select_from(Product)):
        return False
    session.add_all(
        Product(
            external_product_id=item["externalProductId"],
            name=item["name"],
            category=item["category"],
            vendor=item["vendor"],
            image_url=item["imageUrl"],
            discount=item["discount"],
            billing_period=item["billingPeriod"],
            is_subscription=item["isSubscription"],
            price=Decimal(str(item["price"])),
            is_active=item["isActive"],
            is_soft_deleted=item["isSoftDeleted"],
        )
        for item in catalogue()
    )
    session.flush()
    service = OrderService(unit)
    for user_id, orders in _DEMO_ORDERS.items():
        for lines in orders:
            service.place(user_id, lines)
    return True
