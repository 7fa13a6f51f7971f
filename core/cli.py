"""`partner-gateway`: migrate, load demo data, print demo credentials, manage IDL data, run the worker."""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

from core.config import Settings
from core.database import Database
from core.jwt_bearer import issue_token
from core.unit_of_work import UnitOfWork
from models.order_accept.demo import DEMO_CUSTOMERS
from models.order_accept.demo import load_demo_data as load_order_accept_demo

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
logger = logging.getLogger("partner_gateway.worker")
PURGE_INTERVAL_SECONDS = 600


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = database_url
    return config


def migrate(settings: Settings) -> None:
    """Bring the schema to the newest migration."""
    command.upgrade(alembic_config(settings.database_url), "head")


def load_demo(settings: Settings) -> list[str]:
    """Load each API's demo data into its tables if they are empty; the names of those loaded."""
    from models.idl.demo import load_demo_data as load_idl_demo

    database = Database(settings.database_url)
    loaded = []
    try:
        with UnitOfWork(database, settings) as unit:
            if load_order_accept_demo(unit):
                loaded.append("order_accept")
            if load_idl_demo(unit, settings.idl):
                loaded.append("idl")
            unit.commit()
    finally:
        database.dispose()
    return loaded


def demo_credentials(settings: Settings) -> dict[str, Any]:
    """Freshly minted `Authorization` values for each API's demo identities."""
    from models.idl.accounts import Accounts, Users
    from models.idl.demo import demo_users

    credentials: dict[str, Any] = {
        "order_accept": {
            customer.name: {
                "authorization": f"Bearer {issue_token(settings.order_accept_jwt, {'sub': customer.user_id})}",
                "userId": customer.user_id,
            }
            for customer in DEMO_CUSTOMERS
        }
    }
    database = Database(settings.database_url)
    try:
        with UnitOfWork(database, settings) as unit:
            idl: dict[str, Any] = {}
            for demo in demo_users():
                user = Users(unit).by_email(demo.email)
                if user is None or not user.active:
                    continue
                tokens = Accounts(unit, settings.idl.jwt).issue_for(user)
                idl[demo.role] = {
                    "email": demo.email,
                    "password": demo.password,
                    "authorization": f"Bearer {tokens.access_token}",
                }
            unit.commit()
        credentials["idl"] = idl
    finally:
        database.dispose()
    return credentials


def idl_import(settings: Settings, kind: str, path: Path) -> int:
    from models.idl.reference import import_file

    database = Database(settings.database_url)
    try:
        with UnitOfWork(database, settings) as unit:
            count = import_file(unit, kind, path)
            unit.commit()
        return count
    finally:
        database.dispose()


def idl_create_user(settings: Settings, args: argparse.Namespace) -> int:
    from models.idl.accounts import Users

    password = os.environ.get("IDL_NEW_USER_PASSWORD") or getpass.getpass("Password for the new user: ")
    if len(password) < 12:
        raise SystemExit("the password must have at least 12 characters")
    database = Database(settings.database_url)
    try:
        with UnitOfWork(database, settings) as unit:
            user = Users(unit).create(
                email=args.email,
                name=args.name,
                role=args.role,
                password=password,
                project_ids=args.project or [],
                authorization_limit=Decimal(args.limit) if args.limit is not None else None,
            )
            unit.commit()
            return user.id
    finally:
        database.dispose()


def run_worker(settings: Settings, once: bool, interval: float) -> None:
    """Deliver what the API defers: the background virus scan of uploaded files, and the
    purge of session records past their expiry."""
    from models.idl.attachments import scan_pending
    from models.shared.sessions import purge_expired

    database = Database(settings.database_url)
    next_purge = 0.0
    try:
        while True:
            if time.monotonic() >= next_purge:
                with UnitOfWork(database, settings) as unit:
                    purged = purge_expired(unit)
                    unit.commit()
                logger.info("purged %d expired session record(s)", purged)
                next_purge = time.monotonic() + PURGE_INTERVAL_SECONDS
            with UnitOfWork(database, settings) as unit:
                decided = scan_pending(unit, settings.idl)
                unit.commit()
            if decided:
                logger.info("scanned %d file(s)", decided)
                continue  # more may be waiting: take the next batch at once
            if once:
                return
            time.sleep(interval)
    finally:
        database.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="partner-gateway", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations")
    commands.add_parser("load-demo", help="load demo data into an empty database")
    commands.add_parser("setup", help="migrate, then load demo data into an empty database")
    commands.add_parser("demo-credentials", help="print demo credentials as JSON")
    worker = commands.add_parser("worker", help="run the background worker (virus scans)")
    worker.add_argument("--once", action="store_true", help="process what is pending, then exit")
    worker.add_argument("--interval", type=float, default=2.0, help="seconds between polls when idle")
    idl = commands.add_parser("idl", help="IDL Purchase Order Tool data").add_subparsers(dest="idl", required=True)
    importing = idl.add_parser("import", help="import JobCost/Timberline reference data from CSV or JSON")
    importing.add_argument("kind", choices=["projects", "cost-codes", "vendors", "tax-codes"])
    importing.add_argument("file", type=Path)
    create_user = idl.add_parser("create-user", help="create a user (password from IDL_NEW_USER_PASSWORD or a prompt)")
    create_user.add_argument("--email", required=True)
    create_user.add_argument("--name", required=True)
    create_user.add_argument("--role", required=True, choices=["foreman", "super", "pm", "admin"])
    create_user.add_argument("--project", action="append", help="a project id the user works on (repeatable)")
    create_user.add_argument("--limit", help="authorization limit (default: the role's)")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    if args.command in ("migrate", "setup"):
        migrate(settings)
    if args.command in ("load-demo", "setup"):
        loaded = load_demo(settings)
        print(
            f"demo data loaded: {', '.join(loaded)}" if loaded else "demo data: database not empty, left as is",
            file=sys.stderr,
        )
    if args.command == "demo-credentials":
        print(json.dumps(demo_credentials(settings), indent=2))
    if args.command == "worker":
        run_worker(settings, args.once, args.interval)
    if args.command == "idl" and args.idl == "import":
        print(f"imported {idl_import(settings, args.kind, args.file)} {args.kind}", file=sys.stderr)
    if args.command == "idl" and args.idl == "create-user":
        print(f"created user {idl_create_user(settings, args)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
