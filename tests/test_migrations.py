"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.api import registered
from core.cli import alembic_config
from core.config import Settings
from core.database import Database
from models.registry import service_metadata


def test_migrated_schema_matches_the_models(database: Settings) -> None:
    engine = Database(database.database_url).engine
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), service_metadata())
    engine.dispose()

    assert differences == []


def test_migrations_downgrade_and_upgrade_again(settings: Settings, tmp_path: Path) -> None:
    config = alembic_config(f"sqlite:///{tmp_path / 'roundtrip.db'}", registered())

    command.upgrade(config, "heads")
    command.downgrade(config, "base")
    command.upgrade(config, "heads")
