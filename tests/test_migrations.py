"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.config import Settings
from core.database import Base, Database
from models.registry import import_all_models


def test_migrated_schema_matches_the_models(database: Settings) -> None:
    import_all_models()
    engine = Database(database.database_url).engine
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()

    assert differences == []
