"""`partner-gateway idl …`: import JobCost/Timberline reference data, and create users."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from decimal import Decimal
from pathlib import Path

from core.api import Mounted
from core.unit_of_work import UnitOfWork
from models.idl.accounts import Users
from models.idl.reference import KINDS, ReferenceImportError, import_file
from models.idl.roles import ROLES
from models.idl.settings import IDLSettings


def commands(parser: argparse.ArgumentParser) -> None:
    """`partner-gateway idl import …` and `partner-gateway idl create-user …`."""
    idl = parser.add_subparsers(dest="idl", required=True)
    importing = idl.add_parser("import", help="import JobCost/Timberline reference data from CSV or JSON")
    importing.add_argument("kind", choices=list(KINDS))
    importing.add_argument("file", type=Path)
    importing.set_defaults(run=_import)
    create_user = idl.add_parser("create-user", help="create a user (password from IDL_NEW_USER_PASSWORD or a prompt)")
    create_user.add_argument("--email", required=True)
    create_user.add_argument("--name", required=True)
    create_user.add_argument("--role", required=True, choices=list(ROLES))
    create_user.add_argument("--project", action="append", help="a project id the user works on (repeatable)")
    create_user.add_argument("--limit", help="authorization limit (default: the role's)")
    create_user.set_defaults(run=_create_user)


def _import(args: argparse.Namespace, mounted: Mounted[IDLSettings]) -> int:
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        try:
            count = import_file(unit, args.kind, args.file)
        except ReferenceImportError as exc:
            raise SystemExit(str(exc)) from exc
        unit.commit()
    print(f"imported {count} {args.kind}", file=sys.stderr)
    return 0


def _create_user(args: argparse.Namespace, mounted: Mounted[IDLSettings]) -> int:
    password = os.environ.get("IDL_NEW_USER_PASSWORD") or getpass.getpass("Password for the new user: ")
    if len(password) < 12:
        raise SystemExit("the password must have at least 12 characters")
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        user = Users(unit).create(
            email=args.email,
            name=args.name,
            role=args.role,
            password=password,
            project_ids=args.project or [],
            authorization_limit=Decimal(args.limit) if args.limit is not None else None,
        )
        unit.commit()
        print(f"created user {user.id}", file=sys.stderr)
    return 0
