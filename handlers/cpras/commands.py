"""`partner-gateway cpras …`: the OAuth clients of the token endpoint, the key ring that signs
its tokens, the procurement data behind the supplier context and the hand-offs, and the
operators of the Print Orders area.

A new or rotated client secret, and a new operator's password, are printed once, on
standard output, and never again: only hashes are kept. Everything else goes to standard
error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.api import Mounted
from core.cli import or_exit
from core.columns import aware
from core.oauth.commands import client_commands
from core.unit_of_work import UnitOfWork
from models.cpras import scopes
from models.cpras.clients import Clients
from models.cpras.operators import Operators
from models.cpras.procurement import KINDS, ProcurementImportError, import_file
from models.cpras.settings import CprasSettings


def commands(parser: argparse.ArgumentParser) -> None:
    cpras = parser.add_subparsers(dest="cpras", required=True)
    create = cpras.add_parser("create-client", help="create an OAuth client and print its secret (shown once)")
    create.add_argument("--id", required=True, dest="client_id", help="the client id, e.g. printplanr")
    create.add_argument("--name", default="PrintPLANR", help="who the client is")
    create.add_argument(
        "--scope",
        action="append",
        choices=sorted(scopes.ALL),
        help="a scope its tokens may carry (repeat for several; default webhooks:write)",
    )
    create.set_defaults(run=_create_client)
    listing = cpras.add_parser("list-clients", help="list the clients (never their secrets)")
    listing.set_defaults(run=_list_clients)
    client_commands(cpras, Clients, lambda mounted: mounted.config.token_keys_file)
    loading = cpras.add_parser(
        "import",
        help="insert or update procurement data from a CSV (with a header line) or JSON (a list of objects) file",
        description="Import in this order, since each kind names earlier ones: " + ", ".join(KINDS) + ".",
    )
    loading.add_argument("kind", choices=list(KINDS))
    loading.add_argument("file", type=Path)
    loading.set_defaults(run=_import)
    operator = cpras.add_parser(
        "create-operator", help="create a Print Orders operator and print their password (shown once)"
    )
    operator.add_argument("username")
    owner = operator.add_mutually_exclusive_group()
    owner.add_argument("--buyer", help="the buyer they order for (a buyer's user)")
    owner.add_argument("--supplier", help="the supplier they are (a supplier's user)")
    operator.set_defaults(run=_create_operator)


def _create_client(args: argparse.Namespace, mounted: Mounted[CprasSettings]) -> int:
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        chosen = set(args.scope or scopes.DEFAULT)
        new = or_exit(lambda: Clients(unit).create(args.client_id, args.name, chosen))
        unit.commit()
    print(f"created client {new.client_id} with scopes {' '.join(sorted(chosen))}", file=sys.stderr)
    print(new.secret)
    return 0


def _list_clients(args: argparse.Namespace, mounted: Mounted[CprasSettings]) -> int:
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        for row in Clients(unit).all():
            state = f"disabled {aware(row.disabled_at).isoformat()}" if row.disabled_at else "enabled"
            print(f"{row.client_id}\t{row.name}\t{row.scopes}\t{state}")
    return 0


def _import(args: argparse.Namespace, mounted: Mounted[CprasSettings]) -> int:
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        try:
            count = import_file(unit, args.kind, args.file)
        except (ProcurementImportError, OSError) as exc:
            print(f"nothing imported: {exc}", file=sys.stderr)
            return 1
        unit.commit()
    print(f"imported {count} {args.kind}", file=sys.stderr)
    return 0


def _create_operator(args: argparse.Namespace, mounted: Mounted[CprasSettings]) -> int:
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        password = or_exit(lambda: Operators(unit).create(args.username, args.buyer, args.supplier))
        unit.commit()
    print(f"created operator {args.username}", file=sys.stderr)
    print(password)
    return 0
