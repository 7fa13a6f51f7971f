"""`partner-gateway scp …`: tenants, the OAuth clients that get their scoped tokens, and the
key ring that signs those tokens.

A new or rotated client secret is printed once, on standard output, and never again: only
its hash is kept. Everything else goes to standard error.
"""

from __future__ import annotations

import argparse
import sys

from core.api import Mounted
from core.cli import or_exit
from core.columns import aware
from core.oauth.commands import client_commands
from core.unit_of_work import UnitOfWork
from models.scp import scopes
from models.scp.clients import Clients, Tenants
from models.scp.settings import ScpSettings
from models.scp.tables import ADMIN, PLATFORM


def commands(parser: argparse.ArgumentParser) -> None:
    scp = parser.add_subparsers(dest="scp", required=True)
    tenant = scp.add_parser("create-tenant", help="create a tenant")
    tenant.add_argument("tenant_id", help="e.g. riverside-care")
    tenant.add_argument("--name", required=True, help="the organisation's name")
    tenant.set_defaults(run=_create_tenant)
    tenants = scp.add_parser("list-tenants", help="list the tenants")
    tenants.set_defaults(run=_list_tenants)
    create = scp.add_parser("create-client", help="create an OAuth client and print its secret (shown once)")
    create.add_argument("--id", required=True, dest="client_id")
    create.add_argument("--name", default="", help="who the client is")
    owner = create.add_mutually_exclusive_group(required=True)
    owner.add_argument("--tenant", help="the tenant its tokens act in (a tenant's admin client)")
    owner.add_argument("--platform", action="store_true", help="a platform client, of no tenant")
    create.add_argument(
        "--scope",
        action="append",
        choices=sorted(scopes.ALL),
        help="a scope its tokens may carry (repeat for several; default: the read-only ones)",
    )
    create.set_defaults(run=_create_client)
    listing = scp.add_parser("list-clients", help="list the clients (never their secrets)")
    listing.set_defaults(run=_list_clients)
    client_commands(scp, Clients, lambda mounted: mounted.config.token_keys_file)


def _create_tenant(args: argparse.Namespace, mounted: Mounted[ScpSettings]) -> int:
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        or_exit(lambda: Tenants(unit).create(args.tenant_id, args.name))
        unit.commit()
    print(f"created tenant {args.tenant_id}", file=sys.stderr)
    return 0


def _list_tenants(args: argparse.Namespace, mounted: Mounted[ScpSettings]) -> int:
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        for tenant in Tenants(unit).all():
            print(f"{tenant.tenant_id}\t{tenant.name}")
    return 0


def _create_client(args: argparse.Namespace, mounted: Mounted[ScpSettings]) -> int:
    role, tenant_id = (PLATFORM, None) if args.platform else (ADMIN, args.tenant)
    chosen = set(args.scope or scopes.DEFAULT)
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        new = or_exit(
            lambda: Clients(unit).create_for(args.client_id, args.name or args.client_id, role, tenant_id, chosen)
        )
        unit.commit()
    where = f"tenant {tenant_id}" if tenant_id else "the platform"
    print(f"created {role} client {new.client_id} of {where} with scopes {' '.join(sorted(chosen))}", file=sys.stderr)
    print(new.secret)
    return 0


def _list_clients(args: argparse.Namespace, mounted: Mounted[ScpSettings]) -> int:
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        for row in Clients(unit).all():
            state = f"disabled {aware(row.disabled_at).isoformat()}" if row.disabled_at else "enabled"
            print(f"{row.client_id}\t{row.role}\t{row.tenant_id or '-'}\t{row.scopes}\t{state}")
    return 0
