"""The app factory: one Connexion app serving every available API under its own prefix."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeAlias

import connexion
import flask
import werkzeug.exceptions
from connexion.jsonifier import Jsonifier
from connexion.middleware import MiddlewarePosition
from connexion.middleware.routing import ROUTING_CONTEXT
from connexion.options import SwaggerUIOptions
from starlette.exceptions import HTTPException

from core.config import Settings
from core.database import Database
from core.fast_path import FastApp, fast_validator_map, inline
from core.mounts import MOUNTS, Mount
from core.problems import ProblemDispatcher
from core.request_context import RequestContextMiddleware
from core.resolver import PackageResolver
from core.routing import middlewares
from core.unit_of_work import transactional
from core.validation import field_validator_map

# AsyncApp on the fast path, FlaskApp on the stock path (connexion ships no type information).
App: TypeAlias = Any
REQUEST_PATHS = ("fast", "stock")


def create_app(settings: Settings | None = None) -> App:
    """Build the ASGI app; nothing is built at import time, so tests can pass their own settings."""
    settings = settings or Settings.from_env()
    if settings.request_path not in REQUEST_PATHS:
        raise ValueError(f"REQUEST_PATH must be one of {REQUEST_PATHS}, not {settings.request_path!r}")
    database = Database(settings.database_url)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        yield
        database.dispose()

    options: dict[str, Any] = {
        "specification_dir": settings.spec_dir,
        "middlewares": middlewares(settings.validate_responses, direct_dispatch=settings.request_path == "fast"),
        "lifespan": lifespan,
        "jsonifier": Jsonifier(json, separators=(",", ":")),
    }
    app: App
    if settings.request_path == "fast":
        app = FastApp(__name__, **options)

        def wrap(handler: Callable[..., Any]) -> Callable[..., Any]:
            return inline(transactional(handler, database, settings))

        validator_map = fast_validator_map()
    else:
        app = connexion.FlaskApp(__name__, **options)
        app.app.before_request(_only_routed_requests)
        app.app.after_request(_no_body_no_content_type)

        def wrap(handler: Callable[..., Any]) -> Callable[..., Any]:
            return transactional(handler, database, settings)

        validator_map = field_validator_map()
    app.add_middleware(RequestContextMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION)
    for mount in mounted(settings):
        # Inside the request context, outside error handling: they see every response.
        for middleware, options in mount.middlewares(settings):
            app.add_middleware(middleware, position=MiddlewarePosition.BEFORE_EXCEPTION, **options)

    dispatcher = ProblemDispatcher()
    for mount in mounted(settings):
        app.add_api(
            mount.spec_path(settings),
            base_path=mount.prefix,
            name=mount.name,
            resolver=PackageResolver(mount.handlers, wrap),
            strict_validation=True,
            validate_responses=settings.validate_responses,
            validator_map=validator_map,
            security_map=mount.security_map(settings, database),
            swagger_ui_options=SwaggerUIOptions(swagger_ui_path="/ui", spec_path="/openapi.json"),
        )
        dispatcher.register(mount.prefix, mount.renderer(), mount.document(settings)["paths"])
    for raised in (connexion.ProblemException, HTTPException, Exception):
        app.add_error_handler(raised, dispatcher)
    return app


def _only_routed_requests() -> None:
    """Stock path: refuse what Connexion's router did not match, even where Flask's would.

    The two routers disagree at the edges (Starlette's `$` also matches before a trailing
    newline, so `/products/x%0A` reaches Flask), and a handler reached without Connexion's
    operation context would fail with a 500 instead of a 404.
    """
    scope = flask.request.environ.get("asgi.scope", {})
    if scope.get("extensions", {}).get(ROUTING_CONTEXT, {}).get("operation_id") is None:
        raise werkzeug.exceptions.NotFound()


def _no_body_no_content_type(response: flask.Response) -> flask.Response:
    """Stock path: Flask gives even a 204 a text/html Content-Type; a response without a body has none."""
    if response.status_code == 204:
        response.headers.pop("Content-Type", None)
    return response


def mounted(settings: Settings) -> list[Mount]:
    return [mount for mount in MOUNTS if mount.is_available(settings)]
