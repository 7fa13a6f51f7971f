"""`partner-gateway mihwar …`: organizations, their API keys and SCIM tokens (and, from
handlers/mihwar/drive.py, users, sessions and the changes that send webhook events).

A new key's or token's secret is printed once, on standard output, and never again: only
its hash is kept. Everything else goes to standard error, so `$(partner-gateway mihwar
create-api-key …)` captures the secret alone.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from core.api import Mounted
from core.cli import or_exit
from core.columns import aware
from core.unit_of_work import UnitOfWork
from handlers.mihwar.drive import add_commands
from models.mihwar.keys import Tenants
from models.mihwar.scim.tokens import ScimTokens
from models.mihwar.settings import MihwarSettings
from models.mihwar.tables import PLANS


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
    create_token = mihwar.add_parser(
        "create-scim-token", help="create a SCIM provisioning token (Enterprise) and print it (shown once)"
    )
    create_token.add_argument("--org", required=True, help="the organization's slug")
    create_token.add_argument("--name", default="SCIM provisioning", help="which identity provider it is for")
    create_token.set_defaults(run=_create_scim_token)
    revoke_token = mihwar.add_parser("revoke-scim-token", help="revoke a SCIM token: it answers 401 from then on")
    revoke_token.add_argument("token_id", help="the token's id, as create-scim-token and list-scim-tokens print it")
    revoke_token.set_defaults(run=_revoke_scim_token)
    list_tokens = mihwar.add_parser("list-scim-tokens", help="list an organization's SCIM tokens (never the tokens)")
    list_tokens.add_argument("--org", required=True, help="the organization's slug")
    list_tokens.set_defaults(run=_list_scim_tokens)
    add_commands(mihwar)


def _create_organization(args: argparse.Namespace, mounted: Mounted[MihwarSettings]) -> int:
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        organization = or_exit(
            lambda: Tenants(unit).create_organization(args.slug, args.name, args.plan, not args.no_api_access)
        )
        unit.commit()
        print(f"created organization {organization.slug} ({organization.id})", file=sys.stderr)
    return 0


def _create_key(args: argparse.Namespace, mounted: Mounted[MihwarSettings]) -> int:
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        tenants = Tenants(unit)
        organization = or_exit(lambda: tenants.organization(args.org))
        new = tenants.create_key(organization, args.name)
        unit.commit()
        print(f"created API key {new.key.id} ({new.key.prefix}…) for {organization.slug}", file=sys.stderr)
    print(new.secret)
    return 0


def _revoke_key(args: argparse.Namespace, mounted: Mounted[MihwarSettings]) -> int:
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        key = or_exit(lambda: Tenants(unit).revoke_key(args.key_id))
        unit.commit()
        print(f"revoked API key {key.id} ({key.prefix}…)", file=sys.stderr)
    return 0


def _list_keys(args: argparse.Namespace, mounted: Mounted[MihwarSettings]) -> int:
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        tenants = Tenants(unit)
        organization = or_exit(lambda: tenants.organization(args.org))
        for key in tenants.keys.of(organization.id):
            print(_credential_line(key.id, key.prefix, key.name, key.last_used_at, key.revoked_at))
    return 0


def _create_scim_token(args: argparse.Namespace, mounted: Mounted[MihwarSettings]) -> int:
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        organization = or_exit(lambda: Tenants(unit).organization(args.org))
        new = or_exit(lambda: ScimTokens(unit).create(organization, args.name))
        unit.commit()
        print(f"created SCIM token {new.token.id} ({new.token.prefix}…) for {organization.slug}", file=sys.stderr)
    print(new.secret)
    return 0


def _revoke_scim_token(args: argparse.Namespace, mounted: Mounted[MihwarSettings]) -> int:
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        token = or_exit(lambda: ScimTokens(unit).revoke(args.token_id))
        unit.commit()
        print(f"revoked SCIM token {token.id} ({token.prefix}…)", file=sys.stderr)
    return 0


def _list_scim_tokens(args: argparse.Namespace, mounted: Mounted[MihwarSettings]) -> int:
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        organization = or_exit(lambda: Tenants(unit).organization(args.org))
        for token in ScimTokens(unit).of(organization.id):
            print(_credential_line(token.id, token.prefix, token.name, token.last_used_at, token.revoked_at))
    return 0


def _credential_line(
    credential_id: str, prefix: str, name: str, last_used_at: datetime | None, revoked_at: datetime | None
) -> str:
    """One line of list-api-keys or list-scim-tokens: id, prefix, name, last use, state."""
    last_used = aware(last_used_at).isoformat() if last_used_at else "never"
    state = f"revoked {aware(revoked_at).isoformat()}" if revoked_at else "active"
    return f"{credential_id}\t{prefix}…\t{name}\tlast used {last_used}\t{state}"
