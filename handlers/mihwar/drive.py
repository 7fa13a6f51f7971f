"""`partner-gateway mihwar …` commands that drive the domain services the web app would call:
users and their sessions, stock levels, purchase orders, checklists, and webhook deliveries.

Each runs its change in one transaction with the events it causes, exactly as the web app
would, so an operator or a demo can make every webhook event happen.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import select

from core.api import Mounted
from core.problems import ApiProblem
from core.unit_of_work import UnitOfWork
from core.webhooks import WebhookDelivery, redeliver
from models.mihwar.accounts import COOKIE, Accounts
from models.mihwar.checklists import Checklists
from models.mihwar.events import API_NAME
from models.mihwar.keys import Tenants
from models.mihwar.ordering import STATUSES, OrderedLine, Orders
from models.mihwar.settings import MihwarSettings
from models.mihwar.stock import Stock
from models.mihwar.tables import ROLES

T = TypeVar("T")


def add_commands(mihwar: Any) -> None:
    """Add the commands to the `partner-gateway mihwar` subparsers."""
    user = mihwar.add_parser("create-user", help="create a user of an organization")
    user.add_argument("--org", required=True, help="the organization's slug")
    user.add_argument("--email", required=True)
    user.add_argument("--name", required=True)
    user.add_argument("--role", choices=ROLES, default="MEMBER")
    user.set_defaults(run=_create_user)
    session = mihwar.add_parser("create-session", help="start a browser session and print its Cookie header value")
    session.add_argument("--email", required=True)
    session.set_defaults(run=_create_session)
    stock = mihwar.add_parser("set-stock", help="set an item's stock (sends low-stock and stockout events)")
    stock.add_argument("--org", required=True)
    stock.add_argument("--sku", required=True)
    stock.add_argument("--level", required=True, type=float)
    stock.add_argument("--source", default="inventory_patch", help="what changed it, sent in the event")
    stock.set_defaults(run=_set_stock)
    order = mihwar.add_parser("create-order", help="create a purchase order (sends order.created)")
    order.add_argument("--org", required=True)
    order.add_argument("--line", required=True, action="append", help="SKU:QUANTITY[:UNIT_COST] (repeatable)")
    order.add_argument("--status", choices=STATUSES, default="DRAFT")
    order.add_argument("--reference")
    order.set_defaults(run=_create_order)
    status = mihwar.add_parser("set-order-status", help="move an order (sends order.status_changed, order.fulfilled)")
    status.add_argument("--org", required=True)
    status.add_argument("--order", required=True, help="the order's id")
    status.add_argument("--status", required=True, choices=[value for value in STATUSES if value != "DRAFT"])
    status.set_defaults(run=_set_order_status)
    checklist = mihwar.add_parser("schedule-checklist", help="open a checklist, due at a moment (ISO 8601)")
    checklist.add_argument("--org", required=True)
    checklist.add_argument("--title", required=True)
    checklist.add_argument("--due", type=datetime.fromisoformat, help="missed (checklist.missed) once past")
    checklist.set_defaults(run=_schedule_checklist)
    complete = mihwar.add_parser("complete-checklist", help="complete a checklist (sends checklist.completed)")
    complete.add_argument("--org", required=True)
    complete.add_argument("--id", required=True, help="the checklist instance's id")
    complete.add_argument("--email", help="the user who completed it")
    complete.set_defaults(run=_complete_checklist)
    deliveries = mihwar.add_parser("deliveries", help="list webhook deliveries by status (failed by default)")
    deliveries.add_argument("--status", default="failed", choices=["pending", "delivered", "failed", "cancelled"])
    deliveries.add_argument("--limit", type=int, default=50)
    deliveries.set_defaults(run=_deliveries)
    again = mihwar.add_parser("redeliver", help="send failed webhook deliveries again, from the start of the schedule")
    again.add_argument("delivery_id", type=int, nargs="+")
    again.set_defaults(run=_redeliver)


def _in_unit(mounted: Mounted[MihwarSettings], change: Callable[[UnitOfWork], T]) -> T:
    """Run `change` in one transaction; a refusal ends the command with its reason."""
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        try:
            result = change(unit)
        except (ApiProblem, ValueError) as exc:
            raise SystemExit(str(getattr(exc, "detail", None) or exc)) from exc
        unit.commit()
    return result


def _organization_id(unit: UnitOfWork, slug: str) -> str:
    return Tenants(unit).organization(slug).id


def _create_user(args: argparse.Namespace, mounted: Mounted[MihwarSettings]) -> int:
    def create(unit: UnitOfWork) -> str:
        organization = Tenants(unit).organization(args.org)
        return Accounts(unit).create_user(organization, args.email, args.name, args.role).id

    print(f"created user {_in_unit(mounted, create)}", file=sys.stderr)
    return 0


def _create_session(args: argparse.Namespace, mounted: Mounted[MihwarSettings]) -> int:
    def start(unit: UnitOfWork) -> str:
        accounts = Accounts(unit)
        return accounts.start_session(accounts.user(args.email))

    print(f"{COOKIE}={_in_unit(mounted, start)}")
    return 0


def _set_stock(args: argparse.Namespace, mounted: Mounted[MihwarSettings]) -> int:
    def change(unit: UnitOfWork) -> float:
        return Stock(unit).set_level(_organization_id(unit, args.org), args.sku, args.level, args.source).current_stock

    print(f"{args.sku}: stock {_in_unit(mounted, change)}", file=sys.stderr)
    return 0


def _create_order(args: argparse.Namespace, mounted: Mounted[MihwarSettings]) -> int:
    lines = []
    for text in args.line:
        sku, quantity, *cost = text.split(":")
        lines.append(OrderedLine(sku, float(quantity), Decimal(cost[0]) if cost else None))

    def create(unit: UnitOfWork) -> str:
        return Orders(unit).create(_organization_id(unit, args.org), lines, args.status, args.reference).id

    print(_in_unit(mounted, create))
    return 0


def _set_order_status(args: argparse.Namespace, mounted: Mounted[MihwarSettings]) -> int:
    def change(unit: UnitOfWork) -> str:
        return Orders(unit).set_status(_organization_id(unit, args.org), args.order, args.status).status

    print(f"{args.order}: {_in_unit(mounted, change)}", file=sys.stderr)
    return 0


def _schedule_checklist(args: argparse.Namespace, mounted: Mounted[MihwarSettings]) -> int:
    def schedule(unit: UnitOfWork) -> str:
        return Checklists(unit).schedule(_organization_id(unit, args.org), args.title, args.due).id

    print(_in_unit(mounted, schedule))
    return 0


def _complete_checklist(args: argparse.Namespace, mounted: Mounted[MihwarSettings]) -> int:
    def complete(unit: UnitOfWork) -> str:
        user_id = Accounts(unit).user(args.email).id if args.email else None
        return Checklists(unit).complete(_organization_id(unit, args.org), args.id, user_id).status

    print(f"{args.id}: {_in_unit(mounted, complete)}", file=sys.stderr)
    return 0


def _deliveries(args: argparse.Namespace, mounted: Mounted[MihwarSettings]) -> int:
    def listed(unit: UnitOfWork) -> list[Any]:
        return list(
            unit.connection.execute(
                select(WebhookDelivery.__table__)
                .where(WebhookDelivery.api == API_NAME, WebhookDelivery.status == args.status)
                .order_by(WebhookDelivery.id.desc())
                .limit(args.limit)
            )
        )

    for row in _in_unit(mounted, listed):
        outcome = row.last_error or row.last_status or ""
        print(f"{row.id}\t{row.event_type}\t{row.subscription_id}\tattempts {row.attempts}\t{outcome}")
    return 0


def _redeliver(args: argparse.Namespace, mounted: Mounted[MihwarSettings]) -> int:
    count = _in_unit(mounted, lambda unit: redeliver(unit, API_NAME, args.delivery_id))
    print(f"{count} delivery(ies) will be sent again", file=sys.stderr)
    return 0
