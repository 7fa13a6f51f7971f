"""`partner-gateway scp …`: tenants, the OAuth clients that get their scoped tokens, the key
ring that signs those tokens, the vertical catalogue, and the API call log.

A new or rotated client secret is printed once, on standard output, and never again: only
its hash is kept. Everything else goes to standard error.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime

from core.api import Mounted
from core.cli import or_exit
from core.columns import aware
from core.oauth.commands import client_commands
from core.unit_of_work import UnitOfWork
from models.scp import scopes
from models.scp.clients import Clients, Tenants
from models.scp.repositories import AuditLog, Catalogue
from models.scp.settings import ScpSettings
from models.scp.tables import ADMIN, PLATFORM

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
VERTICAL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


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
    vertical = scp.add_parser("add-vertical", help="add a vertical to the catalogue integrations may name")
    vertical.add_argument("vertical_id", help="e.g. social-protection")
    vertical.add_argument("--name", required=True, help="the vertical's name")
    vertical.set_defaults(run=_add_vertical)
    verticals = scp.add_parser("list-verticals", help="list the vertical catalogue")
    verticals.set_defaults(run=_list_verticals)
    audit = scp.add_parser("audit", help="print the API call log, oldest first (tab-separated)")
    audit.add_argument("--tenant", help="only this tenant's calls")
    audit.add_argument("--client", help="only this client's calls")
    audit.add_argument("--outcome", choices=("succeeded", "refused", "failed"), help="only calls with this outcome")
    audit.add_argument("--since", type=_moment, help="only calls from this time on (ISO 8601, UTC if no offset)")
    audit.add_argument("--limit", type=int, default=100, help="the newest this many (default 100)")
    audit.set_defaults(run=_audit)
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


def _add_vertical(args: argparse.Namespace, mounted: Mounted[ScpSettings]) -> int:
    if not VERTICAL_ID.fullmatch(args.vertical_id):
        raise SystemExit("a vertical id is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        catalogue = Catalogue(unit)
        if args.vertical_id in {vertical.vertical_id for vertical in catalogue.verticals()}:
            raise SystemExit(f"the vertical {args.vertical_id} exists already")
        catalogue.add_vertical(args.vertical_id, args.name)
        unit.commit()
    print(f"added vertical {args.vertical_id}", file=sys.stderr)
    return 0


def _list_verticals(args: argparse.Namespace, mounted: Mounted[ScpSettings]) -> int:
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        for vertical in Catalogue(unit).verticals():
            print(f"{vertical.vertical_id}\t{vertical.name}")
    return 0


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _printable(field: str | None) -> str | None:
    """A field on one line of its own: control characters (a decoded `%0A` in a path, say)
    are written as escapes, so no request can forge a line of the log."""
    return CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}", field) if field else field


def _audit(args: argparse.Namespace, mounted: Mounted[ScpSettings]) -> int:
    """One line per call: time, request id, tenant, client, operation, method, path, target,
    status, outcome and reason ('-' where there is none)."""
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        entries = AuditLog(unit).read(args.tenant, args.client, args.outcome, args.since, max(1, args.limit))
        for entry in entries:
            fields = (
                aware(entry.at).isoformat(),
                entry.request_id,
                entry.tenant_id,
                entry.client_id,
                entry.operation,
                entry.method,
                entry.path,
                entry.target,
                str(entry.status),
                entry.outcome,
                entry.reason,
            )
            print("\t".join(_printable(field) or "-" for field in fields))
    return 0
