"""Alembic migrations for every API's tables."""
