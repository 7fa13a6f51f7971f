"""`partner-gateway mihwar …`: organizations and their API keys (and, from
handlers/mihwar/drive.py, users, sessions and the changes that send webhook events).

A new key's secret is printed once, on standard output, and never again: only its hash
is kept. Everything else goes to standard error, so `$(partner-gateway mihwar
create-api-key …)` captures the secret alone.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TypeVar

from core.api import Mounted
from core.columns import aware
from core.problems import ApiProblem
from core.unit_of_work import UnitOfWork
from handlers.mihwar.drive import add_commands
from models.mihwar.keys import Tenants
from models.mihwar.settings import MihwarSettings
from models.mihwar.tables import PLANS

T = TypeVar("T")


def commands(parser: argparse.ArgumentParser) -> None:
    mihwar = parser.add_subparsers(dest="mihwar", required=True)
    organization = mihwar.add_parser("create-organization", help="create an organization (a tenant)")
    organization.add_argument("--slug", required=True, help="short unique name, used by the other commands")
    organization.add_argument("--name", required=True)
    organization.add_argument("--plan", choices=PLANS, default="STANDARD")
    organization.add_argument("--no-api-access", action="store_true", help="refuse its API keys with 403")
    organization.set_defaults(run=_create_organization)
    create_key = mihwar.add_parser("create-api-key", help="create an API key and print its secret (shown once)")
    create_key.add_argument("--org", required=True, help="the organization's slug")
    create_key.add_argument("--name", default="Integration key", help="what the key is for")
    create_key.set_defaults(run=_create_key)
    revoke_key = mihwar.add_parser("revoke-api-key", help="revoke an API key: it answers 401 from then on")
    revoke_key.add_argument("key_id", help="the key's id, as create-api-key and list-api-keys print it")
    revoke_key.set_defaults(run=_revoke_key)
    list_keys = mihwar.add_parser("list-api-keys", help="list an organization's API keys (never their secrets)")
    list_keys.add_argument("--org", required=True, help="the organization's slug")
    list_keys.set_defaults(run=_list_keys)
    add_commands(mihwar)


def _create_organization(args: argparse.Namespace, mounted: Mounted[MihwarSettings]) -> int:
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        organization = _or_exit(
            lambda: Tenants(unit).create_organization(args.slug, args.name, args.plan, not args.no_api_access)
        )
        unit.commit()
        print(f"created organization {organization.slug} ({organization.id})", file=sys.stderr)
    return 0


def _create_key(args: argparse.Namespace, mounted: Mounted[MihwarSettings]) -> int:
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        tenants = Tenants(unit)
        organization = _or_exit(lambda: tenants.organization(args.org))
        new = tenants.create_key(organization, args.name)
        unit.commit()
        print(f"created API key {new.key.id} ({new.key.prefix}…) for {organization.slug}", file=sys.stderr)
    print(new.secret)
    return 0


def _revoke_key(args: argparse.Namespace, mounted: Mounted[MihwarSettings]) -> int:
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        key = _or_exit(lambda: Tenants(unit).revoke_key(args.key_id))
        unit.commit()
        print(f"revoked API key {key.id} ({key.prefix}…)", file=sys.stderr)
    return 0


def _list_keys(args: argparse.Namespace, mounted: Mounted[MihwarSettings]) -> int:
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        tenants = Tenants(unit)
        organization = _or_exit(lambda: tenants.organization(args.org))
        for key in tenants.keys.of(organization.id):
            last_used = aware(key.last_used_at).isoformat() if key.last_used_at else "never"
            state = f"revoked {aware(key.revoked_at).isoformat()}" if key.revoked_at else "active"
            print(f"{key.id}\t{key.prefix}…\t{key.name}\tlast used {last_used}\t{state}")
    return 0


def _or_exit(action: Callable[[], T]) -> T:
    """The action's result; a refusal (no such organization, say) ends the command with its reason."""
    try:
        return action()
    except (ApiProblem, ValueError) as exc:
        raise SystemExit(str(getattr(exc, "detail", None) or exc)) from exc
