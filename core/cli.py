"""`partner-gateway`: migrate the database, load demo data, print demo credentials."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config

from core.config import Settings
from core.database import Database
from core.jwt_bearer import issue_token
from core.unit_of_work import UnitOfWork
from models.order_accept.demo import DEMO_CUSTOMERS
from models.order_accept.demo import load_demo_data as load_order_accept_demo

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


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
    database = Database(settings.database_url)
    loaded = []
    try:
        with UnitOfWork(database) as unit:
            if load_order_accept_demo(unit):
                loaded.append("order_accept")
            unit.commit()
    finally:
        database.dispose()
    return loaded


def demo_credentials(settings: Settings) -> dict[str, dict[str, dict[str, str]]]:
    """Freshly minted `Authorization` values for each API's demo identities."""
    return {
        "order_accept": {
            customer.name: {
                "authorization": f"Bearer {issue_token(settings.order_accept_jwt, {'sub': customer.user_id})}",
                "userId": customer.user_id,
            }
            for customer in DEMO_CUSTOMERS
        }
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="partner-gateway", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations")
    commands.add_parser("load-demo", help="load demo data into an empty database")
    commands.add_parser("setup", help="migrate, then load demo data into an empty database")
    commands.add_parser("demo-credentials", help="print demo credentials as JSON")
    args = parser.parse_args(argv)
    settings = Settings.from_env()

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
    return 0


if __name__ == "__main__":
    sys.exit(main())
