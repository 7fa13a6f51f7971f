"""The request path: one middleware that serves every operation of every mounted API.

Connexion routes the request (by the spec) and this middleware does the rest, in order,
with the pieces each operation needs built once at start-up:

1. security: the operation's verifiers by scheme name, scopes and declared permissions
   (core.security), before anything else, so an unknown caller learns nothing more;
2. parameters: path, query, header and cookie, each reported by name (core.validation);
3. the body: its size limit, media type, parsing and schema (core.bodies);
4. the handler, with its arguments as Connexion would pass them plus the verified
   `principal`, inside one unit of work that commits on success and rolls back
   otherwise, run where it is marked to run: in the handler pool unless `@inline`
   (core.concurrency), with its answer serialised there too.

Errors are raised, never written here: Connexion's exception middleware hands them to
the problem dispatcher (core.problems), which writes them in the API's own format.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from connexion.context import _context, _operation, _receive, _scope
from connexion.decorators.parameter import sanitized, unwrap_decorators
from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest
from connexion.middleware.abstract import RoutedAPI, RoutedMiddleware
from connexion.operations import AbstractOperation
from connexion.utils import inspect_function_arguments
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from core.bodies import Body, BodyReader
from core.concurrency import HandlerPool, runs_inline
from core.config import Settings
from core.database import Database
from core.ops.middleware import rejected, routed
from core.responses import to_response
from core.security import Guard, Verifier
from core.unit_of_work import in_unit_of_work
from core.validation import ParameterValidator, StrictURIParser

CONTEXT_KEY = "connexion_context"


@dataclass(frozen=True)
class Serving:
    """What every operation of one API shares: its verifiers, limits, database and pool."""

    realm: str
    verifiers: Mapping[str, Verifier]
    body_limit: Callable[[str], int]
    body_checks: Mapping[str, Callable[[Any], None]]
    settings: Settings
    database: Database
    pool: HandlerPool


_MISSING = object()


def spec_operation_id(operation: AbstractOperation) -> str:
    """The operationId the spec gives (Connexion's `operation_id` is the resolved function's path)."""
    return str(operation._operation.get("operationId", operation.operation_id))


class Arguments:
    """What a handler is called with, worked out once per operation: its path and query
    parameters (already typed by the URI parser, defaults filled in), its body and files by
    the names Connexion gives them, and the verified `principal`, each only if it takes it."""

    def __init__(self, operation: AbstractOperation, handler: Callable[..., Any]) -> None:
        names, has_kwargs = inspect_function_arguments(unwrap_decorators(handler))

        def wanted(name: str) -> bool:
            return has_kwargs or name in names

        self.path = [
            (param["name"].replace("-", "_"), sanitized(param["name"]))
            for param in operation.parameters
            if param["in"] == "path" and wanted(sanitized(param["name"]))
        ]
        self.query = [
            (param["name"], sanitized(param["name"]), param.get("schema", {}).get("default", _MISSING))
            for param in operation.parameters
            if param["in"] == "query" and wanted(sanitized(param["name"]))
        ]
        body_name = sanitized(operation.body_name("")) if operation.request_body else ""
        self.body = body_name if body_name and wanted(body_name) else None
        self.body_schema = operation.body_schema() if operation.request_body else {}
        self.files = {
            name: schema.get("type") == "array"
            for content in operation.request_body.get("content", {}).values()
            for name, schema in content.get("schema", {}).get("properties", {}).items()
            if wanted(name)
        }
        self.principal = wanted("principal")

    def __call__(self, request: ConnexionRequest, body: Body, principal: Any) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if self.path:
            path = request.path_params
            for name, key in self.path:
                if name in path:
                    kwargs[key] = path[name]
        if self.query:
            query = request.query_params
            for name, key, default in self.query:
                if name in query:
                    kwargs[key] = query[name]
                elif default is not _MISSING:
                    kwargs[key] = copy.deepcopy(default)
        if self.body is not None:
            kwargs[self.body] = (
                body.value if body.value is not None else copy.deepcopy(self.body_schema.get("default", {}))
            )
        for name, many in self.files.items():
            if name in body.files:
                kwargs[name] = body.files[name] if many else body.files[name][0]
        if self.principal:
            kwargs["principal"] = principal
        return kwargs


class Operation:
    """One operation, ready to serve: its guard, validators, body reader and handler."""

    def __init__(self, operation: AbstractOperation, serving: Serving) -> None:
        self.operation = operation
        self.operation_id = spec_operation_id(operation)
        self.serving = serving
        self.guard = Guard(operation, serving.verifiers, serving.realm, serving.pool)
        self.uri_parser = StrictURIParser(operation.parameters, operation.body_definition())
        security_query = [
            str(scheme["name"])
            for requirement in operation.security or []
            for name in requirement
            if (scheme := operation.security_schemes[name]).get("type") == "apiKey" and scheme.get("in") == "query"
        ]
        self.parameters = ParameterValidator(operation.parameters, security_query=security_query)
        self.body = (
            BodyReader(
                operation,
                limit=serving.body_limit(spec_operation_id(operation)),
                check=serving.body_checks.get(spec_operation_id(operation)),
                pool=serving.pool,
            )
            if operation.request_body
            else None
        )
        self.handler = operation.function
        self.arguments = Arguments(operation, self.handler)
        self.inline = runs_inline(self.handler)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        routed(scope, self.operation_id)
        request = ConnexionRequest(scope, receive, uri_parser=self.uri_parser)
        principal = await self.guard.check(request)
        try:
            self.parameters.validate(request)
            body = await self.body.read(Headers(scope=scope), receive) if self.body else Body()
        except ProblemException:
            rejected(scope)
            raise
        try:
            kwargs = self.arguments(request, body, principal)
            context = scope.setdefault("extensions", {}).setdefault(CONTEXT_KEY, {})
            context["principal"] = principal
            _context.set(context)
            _operation.set(self.operation)
            _receive.set(receive)
            _scope.set(scope)
            body.keep_raw()
            response = await self._run(kwargs)
        finally:
            body.close()
        await response(scope, receive, send)

    async def _run(self, kwargs: dict[str, Any]) -> Response:
        serving = self.serving
        if self.inline:  # on the loop's thread, with the connection it keeps
            kept, owner = serving.database.kept, threading.get_ident()
            connection = kept.get(owner) or kept.keep(owner, await serving.pool.run(kept.engine.connect))
            return to_response(in_unit_of_work(self.handler, serving.database, serving.settings, kwargs, connection))

        def call() -> Response:
            return to_response(in_unit_of_work(self.handler, serving.database, serving.settings, kwargs))

        return await serving.pool.run(call)


class OperationAPI(RoutedAPI[Operation]):
    def __init__(self, *args: Any, serving: Serving, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.serving = serving
        self.add_paths()

    def make_operation(self, operation: AbstractOperation) -> Operation:
        return Operation(operation, self.serving)


class OperationMiddleware(RoutedMiddleware[OperationAPI]):
    """Serves every routed operation; anything unrouted goes on (to a 404 or 405)."""

    api_cls = OperationAPI
