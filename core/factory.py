"""The app factory: one Connexion app serving every available API under its own prefix."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import connexion
import flask
import werkzeug.exceptions
from connexion.middleware import MiddlewarePosition
from connexion.middleware.routing import ROUTING_CONTEXT
from connexion.options import SwaggerUIOptions
from starlette.exceptions import HTTPException

from core.config import Settings
from core.database import Database, bind_request_sessions
from core.mounts import MOUNTS, Mount
from core.problems import ProblemDispatcher
from core.request_context import RequestContextMiddleware
from core.resolver import PackageResolver
from core.routing import middlewares
from core.validation import field_validator_map


def create_app(settings: Settings | None = None) -> connexion.FlaskApp:
    """Build the ASGI app; nothing is built at import time, so tests can pass their own settings."""
    settings = settings or Settings.from_env()
    database = Database(settings.database_url)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        yield
        database.dispose()

    app = connexion.FlaskApp(
        __name__, specification_dir=settings.spec_dir, middlewares=middlewares(), lifespan=lifespan
    )
    app.add_middleware(RequestContextMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION)

    bind_request_sessions(app.app, database)
    app.app.before_request(_only_routed_requests)
    app.app.config["SETTINGS"] = settings

    dispatcher = ProblemDispatcher()
    for mount in mounted(settings):
        _add_api(app, mount, settings)
        dispatcher.register(mount.prefix, mount.renderer(), mount.document(settings)["paths"])
    for raised in (connexion.ProblemException, HTTPException, Exception):
        app.add_error_handler(raised, dispatcher)
    return app


def _only_routed_requests() -> None:
    """Refuse what Connexion's router did not match, even where Flask's own router would.

    The two routers disagree at the edges (Starlette's `$` also matches before a trailing
    newline, so `/products/x%0A` reaches Flask), and a handler reached without Connexion's
    operation context would fail with a 500 instead of a 404.
    """
    scope = flask.request.environ.get("asgi.scope", {})
    if scope.get("extensions", {}).get(ROUTING_CONTEXT, {}).get("operation_id") is None:
        raise werkzeug.exceptions.NotFound()


def mounted(settings: Settings) -> list[Mount]:
    return [mount for mount in MOUNTS if mount.is_available(settings)]


def _add_api(app: connexion.FlaskApp, mount: Mount, settings: Settings) -> Any:
    return app.add_api(
        mount.spec_path(settings),
        base_path=mount.prefix,
        name=mount.name,
        resolver=PackageResolver(mount.handlers),
        strict_validation=True,
        validate_responses=settings.validate_responses,
        validator_map=field_validator_map(),
        security_map=mount.security_map(settings),
        swagger_ui_options=SwaggerUIOptions(swagger_ui_path="/ui", spec_path="/openapi.json"),
    )
