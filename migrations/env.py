"""Alembic environment: one metadata for all APIs, the URL from DATABASE_URL or the caller."""

from __future__ import annotations

from alembic import context

from core.config import Settings
from core.database import Base, make_engine
from models.registry import import_all_models

config = context.config
import_all_models(config.attributes.get("apis"))
url = config.attributes.get("database_url") or Settings.from_env().database_url


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
