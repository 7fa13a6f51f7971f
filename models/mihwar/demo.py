"""Mihwar demo data: two organizations with realistic inventory, a year of order history,
purchase orders, and the predictions computed from that history.

An Enterprise coffee roaster and a bakery on the standard plan, both with API access. Each
has one demo API key, derived from its slug by a fixed rule so that `make demo-credentials`
prints it on any machine sharing the database, while the database stores only its hash,
as for every key. The demo keys are public, as the IDL demo passwords are: demo data is
for trying the service, never for production. The history is generated with a fixed seed: steady daily
demand with a weekly rhythm for the everyday items, rare orders for spare parts (which
makes them intermittent, so forecast with Croston's method).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from core.unit_of_work import UnitOfWork
from models.mihwar.accounts import Accounts
from models.mihwar.ingestion import Ingestion
from models.mihwar.keys import KEY_PREFIX, SHOWN_PREFIX, KeyHolder, hash_of
from models.mihwar.predictions import Forecaster
from models.mihwar.scim.tokens import TOKEN_PREFIX, ScimTokens
from models.mihwar.settings import MihwarSettings
from models.mihwar.tables import (
    ADMIN,
    ENTERPRISE,
    MEMBER,
    ApiKey,
    AppUser,
    InventoryItem,
    Organization,
    PurchaseOrder,
    PurchaseOrderLine,
    Supplier,
)

HISTORY_DAYS = 364


@dataclass(frozen=True)
class DemoItem:
    sku: str
    name: str
    unit: str
    daily: float  # mean daily demand; 0 < daily < 0.2 makes demand intermittent
    stock: float
    threshold: float | None
    cost: str


@dataclass(frozen=True)
class DemoOrganization:
    slug: str
    name: str
    plan: str
    admin_email: str
    currency: str
    suppliers: tuple[str, ...]
    items: tuple[DemoItem, ...]


DEMO_ORGANIZATIONS = (
    DemoOrganization(
        "acme-coffee",
        "Acme Coffee Roasters",
        ENTERPRISE,
        "admin@acme-coffee.example",
        "SAR",
        ("Bean Traders Ltd", "Gulf Dairy Co.", "PackRight Supplies"),
        (
            DemoItem("COF-1KG", "Arabica Coffee Beans 1 kg", "kg", 12.0, 8, 10, "14.50"),
            DemoItem("COF-ESP-1KG", "Espresso Blend Beans 1 kg", "kg", 9.0, 30, 12, "16.00"),
            DemoItem("COF-DECAF-500G", "Decaf Coffee Beans 500 g", "bag", 2.5, 14, 5, "9.75"),
            DemoItem("MLK-FULL-1L", "Full Cream Milk 1 L", "bottle", 40.0, 60, 50, "1.20"),
            DemoItem("MLK-OAT-1L", "Oat Milk 1 L", "carton", 11.0, 25, 15, "3.40"),
            DemoItem("SYR-VAN-750", "Vanilla Syrup 750 ml", "bottle", 1.6, 9, 4, "6.80"),
            DemoItem("SYR-CAR-750", "Caramel Syrup 750 ml", "bottle", 1.2, 7, 4, "6.80"),
            DemoItem("CUP-12OZ-50", "Paper Cups 12 oz (50)", "sleeve", 6.0, 40, 20, "4.10"),
            DemoItem("LID-12OZ-50", "Cup Lids 12 oz (50)", "sleeve", 6.0, 38, 20, "2.30"),
            DemoItem("SUG-STK-1000", "Sugar Sticks (1000)", "box", 0.5, 6, 2, "12.00"),
            DemoItem("TEA-EG-100", "Earl Grey Tea Bags (100)", "box", 0.9, 5, 3, "7.25"),
            DemoItem("CHO-PWD-1KG", "Chocolate Powder 1 kg", "kg", 1.1, 4, 3, "11.90"),
            DemoItem("GRN-BURR-SET", "Grinder Burr Set", "set", 0.03, 1, None, "95.00"),
            DemoItem("ESP-GASKET", "Espresso Group Gasket", "piece", 0.08, 6, 2, "4.50"),
            DemoItem("FLT-WATER", "Water Filter Cartridge", "piece", 0.05, 2, 1, "38.00"),
        ),
    ),
    DemoOrganization(
        "corner-bakery",
        "Corner Bakery",
        "STANDARD",
        "admin@corner-bakery.example",
        "SAR",
        ("Mill & Co.", "Gulf Dairy Co."),
        (
            DemoItem("FLR-T55-25KG", "Wheat Flour T55 25 kg", "sack", 1.4, 6, 3, "42.00"),
            DemoItem("FLR-WW-25KG", "Whole Wheat Flour 25 kg", "sack", 0.6, 3, 2, "47.50"),
            DemoItem("BTR-UNS-10KG", "Unsalted Butter 10 kg", "block", 0.9, 4, 2, "95.00"),
            DemoItem("YST-DRY-500G", "Dry Yeast 500 g", "pack", 1.8, 10, 4, "5.60"),
            DemoItem("EGG-30", "Eggs (tray of 30)", "tray", 5.0, 12, 8, "13.50"),
            DemoItem("SUG-CAST-25KG", "Caster Sugar 25 kg", "sack", 0.4, 2, 1, "38.00"),
            DemoItem("BOX-CAKE-10", "Cake Boxes (10)", "pack", 2.2, 15, 6, "8.90"),
            DemoItem("MXR-HOOK", "Mixer Dough Hook", "piece", 0.02, 0, None, "120.00"),
        ),
    ),
)


def demo_key_secret(slug: str) -> str:
    """The (public) demo API key of a demo organization: derived from its slug, never stored."""
    digest = hmac.new(b"mihwar demo key", slug.encode(), hashlib.sha256).digest()
    return KEY_PREFIX + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def demo_scim_token(slug: str) -> str:
    """The (public) demo SCIM token of a demo organization: derived from its slug, never stored."""
    digest = hmac.new(b"mihwar demo scim token", slug.encode(), hashlib.sha256).digest()
    return TOKEN_PREFIX + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def ensure_demo_scim_token(unit: UnitOfWork, demo: DemoOrganization) -> str | None:
    """The demo SCIM token of an Enterprise demo organization, stored if it is not yet (a
    database loaded before SCIM tokens existed gets it here); None for other plans."""
    if demo.plan != ENTERPRISE:
        return None
    secret = demo_scim_token(demo.slug)
    tokens = ScimTokens(unit)
    if not tokens.exists(secret):
        organization = unit.session.scalars(select(Organization).where(Organization.slug == demo.slug)).one()
        tokens.create(organization, "Demo SCIM token", secret=secret)
    return secret


def ensure_demo_users(unit: UnitOfWork, demo: DemoOrganization) -> None:
    """The demo organization's administrator and staff member, added if missing (a database
    loaded before users existed gets them here)."""
    organization = unit.session.scalars(select(Organization).where(Organization.slug == demo.slug)).one()
    staff = demo.admin_email.replace("admin@", "staff@")
    for email, name, role in ((demo.admin_email, "admin", ADMIN), (staff, "staff", MEMBER)):
        if unit.session.scalar(select(AppUser.id).where(AppUser.email == email)) is None:
            Accounts(unit).create_user(organization, email, f"{demo.name} {name}", role)
    unit.session.flush()


def load_demo_data(unit: UnitOfWork, settings: MihwarSettings) -> bool:
    """Load the demo organizations into an empty database; False if Mihwar has data already."""
    if unit.session.scalar(select(func.count()).select_from(Organization)):
        return False
    rng = random.Random(2026)  # noqa: S311 - demo data, reproducible on purpose
    today = datetime.now(UTC).date()
    last_sunday = today - timedelta(days=today.weekday() + 1)  # the history ends with a whole week
    for demo in DEMO_ORGANIZATIONS:
        _load_organization(unit, settings, demo, rng, last_sunday)
        ensure_demo_scim_token(unit, demo)
    return True


def _load_organization(
    unit: UnitOfWork, settings: MihwarSettings, demo: DemoOrganization, rng: random.Random, last_day: date
) -> None:
    session = unit.session
    organization = Organization(slug=demo.slug, name=demo.name, plan=demo.plan, api_access=True)
    session.add(organization)
    session.flush()
    secret = demo_key_secret(demo.slug)
    ensure_demo_users(unit, demo)
    key = ApiKey(
        organization_id=organization.id, name="Demo key", prefix=secret[:SHOWN_PREFIX], secret_hash=hash_of(secret)
    )
    session.add(key)
    first_day = last_day - timedelta(days=HISTORY_DAYS - 1)
    created_at = datetime.combine(first_day, time(8), UTC)
    items = [
        InventoryItem(
            organization_id=organization.id,
            sku=item.sku,
            name=item.name,
            unit=item.unit,
            current_stock=item.stock,
            low_stock_threshold=item.threshold,
            created_at=created_at,
            updated_at=created_at + timedelta(minutes=index),
        )
        for index, item in enumerate(demo.items)
    ]
    session.add_all(items)
    suppliers = [Supplier(organization_id=organization.id, name=name) for name in demo.suppliers]
    session.add_all(suppliers)
    session.flush()

    lines = [
        {"sku": item.sku, "orderedQty": quantity, "orderDate": day.isoformat()}
        for item in demo.items
        for day, quantity in _history(item, first_day, last_day, rng)
    ]
    holder = KeyHolder(organization.id, key.id)
    ingestion = Ingestion(unit, settings)
    for start in range(0, len(lines), 5000):
        ingestion.ingest(
            holder, {"periodKind": "DAY", "externalSourceId": "demo-history", "lines": lines[start : start + 5000]}
        )
    forecaster = Forecaster(unit, settings)
    for item in items:
        forecaster.recompute(item.id)
    _purchase_orders(unit, demo, organization.id, items, suppliers, rng, first_day)


def _history(item: DemoItem, first_day: date, last_day: date, rng: random.Random) -> list[tuple[date, float]]:
    """One line per day with orders: Poisson-like demand with a weekly rhythm and a slow trend."""
    history = []
    day = first_day
    while day <= last_day:
        weekly = 1.25 if day.weekday() in (3, 4) else 0.85 if day.weekday() == 5 else 1.0
        trend = 1.0 + 0.15 * (day - first_day).days / HISTORY_DAYS
        mean = item.daily * weekly * trend
        quantity = float(_poisson(rng, mean))
        if quantity > 0:
            history.append((day, quantity))
        day += timedelta(days=1)
    return history


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method for small means, the normal approximation for large)."""
    if mean > 30:
        return max(0, round(rng.gauss(mean, mean**0.5)))
    limit, count, product = pow(2.718281828459045, -mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _purchase_orders(
    unit: UnitOfWork,
    demo: DemoOrganization,
    organization_id: str,
    items: list[InventoryItem],
    suppliers: list[Supplier],
    rng: random.Random,
    first_day: date,
) -> None:
    """A purchase order about every nine days, older ones settled, recent ones in progress."""
    costs = {item.sku: Decimal(item.cost) for item in demo.items}
    count = HISTORY_DAYS // 9
    for number in range(1, count + 1):
        created = datetime.combine(first_day + timedelta(days=number * 9), time(9, 30), UTC)
        age = count - number
        status = (
            rng.choice(("RECEIVED", "FULFILLED", "FULFILLED", "REJECTED"))
            if age > 6
            else rng.choice(("DRAFT", "SUBMITTED", "APPROVED", "RECEIVED"))
        )
        chosen = rng.sample(items, k=min(len(items), rng.randint(1, 4)))
        order = PurchaseOrder(
            organization_id=organization_id,
            reference=f"PO-{created.year}-{number:04d}",
            status=status,
            supplier_id=rng.choice(suppliers).id,
            currency=demo.currency,
            expected_delivery_date=(created + timedelta(days=5)).date(),
            created_at=created,
            updated_at=created + timedelta(hours=rng.randint(1, 72)),
        )
        unit.session.add(order)
        unit.session.flush()
        total = Decimal(0)
        for item in chosen:
            ordered = float(rng.randint(2, 40))
            received = ordered if status in ("RECEIVED", "FULFILLED") else 0.0
            unit.session.add(
                PurchaseOrderLine(
                    order_id=order.id,
                    item_id=item.id,
                    ordered_qty=ordered,
                    received_qty=received,
                    unit_cost=costs[item.sku],
                )
            )
            total += costs[item.sku] * Decimal(int(ordered))
        order.total_cost = total
    unit.session.flush()
