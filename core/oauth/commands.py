"""The commands every API with a token endpoint has, on its own client store and key ring:
`rotate-client-secret`, `disable-client`, `enable-client` and `rotate-signing-key`.

A rotated secret is printed once, on standard output; everything else goes to standard error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.api import Mounted
from core.cli import or_exit
from core.oauth.clients import ClientStore
from core.oauth.keys import KeyRing
from core.unit_of_work import UnitOfWork

Store = Callable[[UnitOfWork], ClientStore[Any]]


def client_commands(subparsers: Any, store: Store, keys_file: Callable[[Mounted[Any]], Path]) -> None:
    """Add the shared commands to an API's `partner-gateway <api> …` subparsers."""

    def rotate(args: argparse.Namespace, mounted: Mounted[Any]) -> int:
        with UnitOfWork(mounted.database, mounted.settings) as unit:
            new = or_exit(lambda: store(unit).rotate(args.client_id))
            unit.commit()
        print(f"rotated the secret of {new.client_id}; the old one is refused from now on", file=sys.stderr)
        print(new.secret)
        return 0

    def switch(enabled: bool) -> Callable[[argparse.Namespace, Mounted[Any]], int]:
        def run(args: argparse.Namespace, mounted: Mounted[Any]) -> int:
            with UnitOfWork(mounted.database, mounted.settings) as unit:
                clients = store(unit)
                or_exit(lambda: clients.enable(args.client_id) if enabled else clients.disable(args.client_id))
                unit.commit()
            print(f"{'enabled' if enabled else 'disabled'} {args.client_id}", file=sys.stderr)
            return 0

        return run

    def rotate_signing_key(args: argparse.Namespace, mounted: Mounted[Any]) -> int:
        path = keys_file(mounted)
        ring = KeyRing.load(path).rotated().pruned(args.keep)
        ring.save(path)
        verifying = ", ".join(key.kid or "" for key in ring.keys)
        print(f"{path}: signing with {ring.signer.kid}; verifying with {verifying}", file=sys.stderr)
        return 0

    for name, run, text in (
        ("rotate-client-secret", rotate, "give a client a new secret (printed once)"),
        ("disable-client", switch(False), "refuse a client's token requests from now on"),
        ("enable-client", switch(True), "take a disabled client's token requests again"),
    ):
        action = subparsers.add_parser(name, help=text)
        action.add_argument("client_id")
        action.set_defaults(run=run)
    keys = subparsers.add_parser(
        "rotate-signing-key", help="add a new token signing key, which signs from now on; older keys keep verifying"
    )
    keys.add_argument("--keep", type=int, default=2, help="how many newest keys to keep (default 2)")
    keys.set_defaults(run=rotate_signing_key)
