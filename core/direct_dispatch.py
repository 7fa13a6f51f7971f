"""Direct dispatch: one middleware that serves an operation without Connexion's layer-by-layer hand-off.

On the fast path, Connexion's stack passes every request through separate security,
request-validation, context and application layers, each looking the operation up again
and rebuilding its request and URI parser. For operations without a request body, this
middleware does the same work once, with Connexion's own pieces: its security handlers
(`SecurityOperation.verification_fn`), the parameter validator of the app's validator map,
its argument extraction (`get_arguments`) and the app's JSON encoder. Operations with a
body, and anything else it does not recognise as plain, fall through to Connexion's layers
unchanged. Errors are raised exactly where Connexion raises them, and rendered by the same
exception handlers; the parity tests (tests/test_request_paths.py) and the contract tests
hold both paths to the same answers.
"""

from __future__ import annotations

from typing import Any

from connexion.context import _context, _operation, _receive, _scope
from connexion.decorators.parameter import get_arguments, sanitized, unwrap_decorators
from connexion.jsonifier import Jsonifier
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.middleware.abstract import RoutedAPI, RoutedMiddleware
from connexion.middleware.security import SecurityOperation
from connexion.operations import AbstractOperation
from connexion.security import SecurityHandlerFactory
from connexion.utils import inspect_function_arguments
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

CONTEXT_KEY = "connexion_context"


def is_plain(operation: AbstractOperation) -> bool:
    """Served directly: no request body, scalar path and query parameters with plain names."""
    if operation.request_body:
        return False
    for parameter in operation.parameters:
        schema = parameter.get("schema", parameter)
        if parameter["in"] not in ("path", "query") or schema.get("type") in ("array", "object"):
            return False
        if not parameter["name"].isidentifier():
            return False
    return True


class DirectOperation:
    def __init__(
        self,
        operation: AbstractOperation,
        *,
        next_app: ASGIApp,
        security_handler_factory: SecurityHandlerFactory,
        validator_map: dict[str, Any],
        strict_validation: bool,
        jsonifier: Jsonifier,
    ) -> None:
        self.next_app = next_app
        self.plain = is_plain(operation)
        if not self.plain:
            return
        self.operation = operation
        self.security = SecurityOperation.from_operation(
            operation, next_app=next_app, security_handler_factory=security_handler_factory
        )
        self.uri_parser = operation._uri_parser_class(operation.parameters, operation.body_definition())
        query_keys = [
            scheme["name"]
            for requirement in operation.security or []
            for name in requirement
            if (scheme := operation.security_schemes[name])["type"] == "apiKey" and scheme["in"] == "query"
        ]
        self.validator = validator_map["parameter"](
            operation.parameters,
            uri_parser=self.uri_parser,
            strict_validation=strict_validation,
            security_query_params=query_keys,
        )
        self.handler = operation.function
        self.arguments, self.has_kwargs = inspect_function_arguments(unwrap_decorators(self.handler))
        self.jsonifier = jsonifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.plain:
            await self.next_app(scope, receive, send)
            return
        request = ConnexionRequest(scope, receive, uri_parser=self.uri_parser)
        if self.security.security:
            await self.security.verification_fn(request)
        self.validator.validate_request(request)

        context = scope.get("extensions", {}).get(CONTEXT_KEY, {})
        _context.set(context)
        _operation.set(self.operation)
        _receive.set(receive)
        _scope.set(scope)
        kwargs = get_arguments(
            self.operation,
            path_params=request.path_params,
            query_params=request.query_params,
            body=None,
            files={},
            arguments=self.arguments,
            has_kwargs=self.has_kwargs,
            sanitize=sanitized,
            content_type=None,
        )
        for key, value in context.items():
            if self.has_kwargs or key in self.arguments:
                kwargs[key] = value
        response = self._response(await self.handler(**kwargs))
        await response(scope, receive, send)

    def _response(self, result: Any) -> Response:
        if isinstance(result, ConnexionResponse):
            headers = dict(result.headers or {})
            return Response(
                content=result.body, status_code=result.status_code, media_type=result.mimetype, headers=headers
            )
        body, status, headers = result if isinstance(result, tuple) else (result, 200, {})
        headers = dict(headers)
        media_type = headers.pop("Content-Type", None) or "application/json"
        content = self.jsonifier.dumps(body) if body is not None and media_type.endswith("json") else body
        return Response(content=content, status_code=status, media_type=media_type, headers=headers)


class DirectAPI(RoutedAPI[DirectOperation]):
    def __init__(
        self,
        *args: Any,
        security_map: dict[str, Any] | None = None,
        validator_map: dict[str, Any] | None = None,
        strict_validation: bool = False,
        jsonifier: Jsonifier | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.security_handler_factory = SecurityHandlerFactory(security_map)
        self.validator_map = validator_map or {}
        self.strict_validation = strict_validation
        self.jsonifier = jsonifier or Jsonifier()
        self.add_paths()

    def make_operation(self, operation: AbstractOperation) -> DirectOperation:
        return DirectOperation(
            operation,
            next_app=self.next_app,
            security_handler_factory=self.security_handler_factory,
            validator_map=self.validator_map,
            strict_validation=self.strict_validation,
            jsonifier=self.jsonifier,
        )


class DirectDispatchMiddleware(RoutedMiddleware[DirectAPI]):
    api_cls = DirectAPI
