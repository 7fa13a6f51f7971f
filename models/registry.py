"""Imports every table the service has, so that `Base.metadata` is complete for Alembic and tests."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import MetaData, Table

from core.api import Api, registered
from core.database import NAMING_CONVENTION, Base

SHARED_TABLES = ("core.outbox", "core.idempotency", "core.webhooks.tables", "models.shared.tables")


def _modules(apis: Sequence[Api[Any]] | None) -> list[str]:
    return [*SHARED_TABLES, *(module for api in (registered() if apis is None else apis) for module in api.models)]


def import_all_models(apis: Sequence[Api[Any]] | None = None) -> None:
    """Import the shared tables and those of every API (of the mount table unless `apis` is given)."""
    for module in _modules(apis):
        importlib.import_module(module)


def service_metadata(apis: Sequence[Api[Any]] | None = None) -> MetaData:
    """The tables of the shared modules and of these APIs only, whatever else was imported."""
    modules = set(_modules(apis))
    import_all_models(apis)
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    for mapper in Base.registry.mappers:
        if mapper.class_.__module__ in modules:
            table: Table = mapper.class_.__table__
            table.to_metadata(metadata)
    return metadata
