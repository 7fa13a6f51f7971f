"""Shared plumbing for every mounted API: configuration, app factory, database, auth and errors."""
