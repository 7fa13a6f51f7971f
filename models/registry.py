"""Imports every table the service has, so that `Base.metadata` is complete for Alembic and tests."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from core.api import Api, registered

SHARED_TABLES = ("core.outbox", "models.shared.tables")


def import_all_models(apis: Sequence[Api[Any]] | None = None) -> None:
    """Import the shared tables and those of every API (of the mount table unless `apis` is given)."""
    for module in SHARED_TABLES:
        importlib.import_module(module)
    for api in registered() if apis is None else apis:
        for module in api.models:
            importlib.import_module(module)
