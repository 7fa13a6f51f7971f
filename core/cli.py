"""`partner-gateway`: migrate, load demo data, print demo credentials, run the worker, and each
API's own commands (`partner-gateway <api> …`, declared by the API)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from prometheus_client import start_http_server

from core.api import Api, Mounted, configure, mounted
from core.config import Settings
from core.database import Database
from core.ops.metrics import counted
from core.problems import ApiProblem
from core.unit_of_work import UnitOfWork
from core.worker import Worker

T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def or_exit(action: Callable[[], T]) -> T:
    """The action's result; a refusal (no such organization, say) ends an API's command with its reason."""
    try:
        return action()
    except (ApiProblem, ValueError) as exc:
        raise SystemExit(str(getattr(exc, "detail", None) or exc)) from exc


def alembic_config(database_url: str, apis: Sequence[Api[Any]] = ()) -> Config:
    """Alembic's configuration: the shared history, plus the version directory of each API that has one."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    locations = [MIGRATIONS_DIR / "versions", *(api.migrations for api in apis if api.migrations)]
    config.set_main_option("version_locations", "\n".join(str(location) for location in locations))
    config.set_main_option("path_separator", "newline")
    config.attributes["database_url"] = database_url
    config.attributes["apis"] = list(apis)
    return config


def migrate(settings: Settings, apis: Sequence[Api[Any]] | None = None) -> None:
    """Bring the schema to the newest migration of every history."""
    command.upgrade(alembic_config(settings.database_url, mounted(settings, apis)), "heads")


def load_demo(settings: Settings, apis: Sequence[Api[Any]] | None = None) -> list[str]:
    """Load each API's demo data into its tables if they are empty; the names of those loaded."""
    served = mounted(settings, apis)
    settings = configure(settings, served)
    database = Database(settings.database_url)
    loaded = []
    try:
        for api in served:
            if api.load_demo is None:
                continue
            with UnitOfWork(database, settings) as unit:
                if api.load_demo(unit, api.config(settings)):
                    loaded.append(api.name)
                unit.commit()
    finally:
        database.dispose()
    return loaded


def demo_credentials(settings: Settings, apis: Sequence[Api[Any]] | None = None) -> dict[str, Any]:
    """Freshly minted credentials of each API's demo identities, by API."""
    served = mounted(settings, apis)
    settings = configure(settings, served)
    database = Database(settings.database_url)
    try:
        return {
            api.name: dict(api.demo_credentials(Mounted(api, settings, database)))
            for api in served
            if api.demo_credentials is not None
        }
    finally:
        database.dispose()


def main(argv: Sequence[str] | None = None, apis: Sequence[Api[Any]] | None = None) -> int:
    settings = Settings.from_env()
    served = mounted(settings, apis)
    parser = argparse.ArgumentParser(prog="partner-gateway", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations")
    commands.add_parser("load-demo", help="load demo data into an empty database")
    commands.add_parser("setup", help="migrate, then load demo data into an empty database")
    commands.add_parser("demo-credentials", help="print demo credentials as JSON")
    worker = commands.add_parser("worker", help="run the background jobs of every API")
    worker.add_argument("--once", action="store_true", help="do what is pending, then exit")
    worker.add_argument(
        "--interval", type=float, default=2.0, help="longest wait between polls while nothing is pending"
    )
    worker.add_argument(
        "--metrics-port", type=int, help="serve this worker's Prometheus metrics on this port (GET /metrics)"
    )
    worker.add_argument("--metrics-host", default="0.0.0.0", help="the address to serve them on (all by default)")  # noqa: S104
    for api in served:
        if api.commands is not None:
            api.commands(commands.add_parser(api.name.replace("_", "-"), help=f"{api.name} commands"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    if args.command in ("migrate", "setup"):
        migrate(settings, served)
    if args.command in ("load-demo", "setup"):
        loaded = load_demo(settings, served)
        print(
            f"demo data loaded: {', '.join(loaded)}" if loaded else "demo data: database not empty, left as is",
            file=sys.stderr,
        )
    if args.command == "demo-credentials":
        print(json.dumps(demo_credentials(settings, served), indent=2))
    if args.command == "worker":
        if args.metrics_port:
            start_http_server(args.metrics_port, addr=args.metrics_host, registry=counted())
        runner = Worker(configure(settings, served), served, poll=args.interval)
        runner.stop_on_signals()
        runner.run(once=args.once)
    if hasattr(args, "run"):
        settings = configure(settings, served)
        api = next(api for api in served if api.name.replace("_", "-") == args.command)
        database = Database(settings.database_url)
        try:
            code: int = args.run(args, Mounted(api, settings, database))
        finally:
            database.dispose()
        return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
