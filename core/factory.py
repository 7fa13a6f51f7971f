"""The app factory: one Connexion app serving every mounted API under its own prefix."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Sequence
from typing import Any, TypeAlias

import connexion
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions
from starlette.exceptions import HTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from core.api import Api, Mounted, configure, mounted
from core.cli import alembic_config
from core.concurrency import HandlerPool
from core.config import Settings
from core.database import Database
from core.dispatch import Serving
from core.ops.metrics import Exposition, QueueCollector, watch_pool
from core.ops.middleware import OpsMiddleware
from core.ops.readiness import migration_heads, node_readiness
from core.pages import PagesMount
from core.problems import ProblemDispatcher
from core.request_context import RequestContextMiddleware
from core.resolver import PackageResolver
from core.routing import middlewares
from core.worker import jobs_of

# connexion ships no type information.
App: TypeAlias = Any


def create_app(settings: Settings | None = None, apis: Sequence[Api[Any]] | None = None) -> App:
    """Build the ASGI app for the APIs of the mount table (or `apis`) whose spec exists.

    Nothing is built at import time, so tests pass their own settings and APIs.
    """
    settings = settings or Settings.from_env()
    served = mounted(settings, apis)
    settings = configure(settings, served)
    # Every pool thread may hold a connection, and so may the handlers run inline.
    database = Database(settings.database_url, pool_size=settings.handler_threads + 2)
    watch_pool(database.engine)
    pool = HandlerPool(settings.handler_threads)
    readiness = node_readiness(settings, migration_heads(alembic_config(settings.database_url, served)))

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        yield
        database.dispose()
        readiness.close()

    app = connexion.AsyncApp(
        __name__,
        specification_dir=settings.spec_dir,
        middlewares=middlewares(settings.validate_responses),
        lifespan=lifespan,
    )
    # Outside error handling, so they see every response; the first added is the outermost.
    if settings.trusted_proxies:
        app.add_middleware(
            ProxyHeadersMiddleware,
            position=MiddlewarePosition.BEFORE_EXCEPTION,
            trusted_hosts=list(settings.trusted_proxies),
        )
    apis_served = [Mounted(api, settings, database) for api in served]
    app.add_middleware(
        OpsMiddleware,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        prefixes={api.prefix: api.name for api in served},
        readiness=readiness,
        exposition=Exposition(QueueCollector(database, jobs_of(apis_served))),
        metrics_port=settings.metrics_port,
    )
    app.add_middleware(RequestContextMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION)
    for serving_api in apis_served:
        if serving_api.api.pages is not None:
            path, pages = serving_api.api.pages(serving_api)
            mount = serving_api.api.prefix + path
            app.add_middleware(PagesMount, position=MiddlewarePosition.BEFORE_EXCEPTION, mount=mount, pages=pages)
        for middleware, options in serving_api.api.middlewares(serving_api):
            app.add_middleware(middleware, position=MiddlewarePosition.BEFORE_EXCEPTION, **options)

    dispatcher = ProblemDispatcher()
    for serving_api in apis_served:
        api = serving_api.api
        _check_body_limits(serving_api)
        app.add_api(
            serving_api.document,
            base_path=api.prefix,
            name=api.name,
            resolver=PackageResolver(api.handlers),
            strict_validation=True,
            validate_responses=settings.validate_responses,
            swagger_ui_options=SwaggerUIOptions(swagger_ui_path="/ui", spec_path="/openapi.json"),
            serving=Serving(
                realm=api.name,
                verifiers=api.security(serving_api),
                body_limit=functools.partial(api.body_limit_of, settings),
                body_checks=api.body_checks,
                settings=settings,
                database=database,
                pool=pool,
            ),
        )
        dispatcher.register(api.prefix, api.render_problem, serving_api.document["paths"])
    for raised in (connexion.ProblemException, HTTPException, Exception):
        app.add_error_handler(raised, dispatcher)
    return app


def _check_body_limits(mounted_api: Mounted[Any]) -> None:
    """Body limits and checks name operations of the API's spec: a misspelt one would be ignored silently."""
    operation_ids = {
        operation.get("operationId")
        for item in mounted_api.api.written_document(mounted_api.settings)["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict)
    }
    for kind, named in (
        ("limits", mounted_api.api.body_limits(mounted_api.config)),
        ("checks", mounted_api.api.body_checks),
    ):
        if unknown := set(named) - operation_ids:
            raise ValueError(f"{mounted_api.api.name}: body {kind} for unknown operations {sorted(unknown)}")
