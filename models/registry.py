"""Imports every API's tables so that `Base.metadata` is complete for Alembic and tests."""

from __future__ import annotations


def import_all_models() -> None:
    import models.idl.tables
    import models.order_accept.tables
    import models.shared.tables  # noqa: F401
