"""The middleware stack around the request path, and routing that matches path parameters by position only.

Connexion routes `{id}` of type integer as `{id:int}`: `/orders/abc` then matches no
operation and falls through to a bare 404. The source contracts want 400 for a malformed
id, so the router here matches any segment and leaves the type to request validation,
which answers in the API's own error format.
"""

from __future__ import annotations

from typing import Any

import starlette.routing
from connexion.frameworks import starlette as starlette_utils
from connexion.middleware.context import ContextMiddleware
from connexion.middleware.main import ConnexionMiddleware
from connexion.middleware.request_validation import RequestValidationMiddleware
from connexion.middleware.response_validation import (
    ResponseValidationAPI,
    ResponseValidationMiddleware,
    ResponseValidationOperation,
)
from connexion.middleware.routing import RoutingAPI, RoutingMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.operations import AbstractOperation
from starlette.exceptions import HTTPException
from starlette.types import Receive, Scope, Send

from core.dispatch import OperationMiddleware


class UntypedRoutingAPI(RoutingAPI):
    @staticmethod
    def _framework_path_and_name(operation: AbstractOperation, path: str) -> tuple[str, str]:
        starlette_path = starlette_utils.starlettify_path(path, {})
        return starlette_path, starlette_path


class _MethodNotAllowed:
    """The answer of a concrete path to a method it does not document."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise HTTPException(status_code=405)


def concrete_paths_first(router: starlette.routing.Router) -> None:
    """OpenAPI matches a concrete path before a templated one: `PATCH /integrations/registry`
    is a method `/integrations/registry` does not document (405), never a PATCH of
    `/integrations/{integration_id}`. A concrete path that a template also matches gets a
    route answering 405 to its other methods, right after its own routes."""
    routes = [route for route in router.routes if isinstance(route, starlette.routing.Route)]
    templated = [route for route in routes if route.param_convertors]
    for path in dict.fromkeys(route.path for route in routes if not route.param_convertors):
        if not any(route.path_regex.match(path) for route in templated):
            continue
        last = max(index for index, route in enumerate(router.routes) if getattr(route, "path", None) == path)
        router.routes.insert(last + 1, starlette.routing.Route(path, _MethodNotAllowed()))


class UntypedRoutingMiddleware(RoutingMiddleware):
    def add_api(
        self, specification: Any, base_path: str | None = None, arguments: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        api = UntypedRoutingAPI(specification, base_path=base_path, arguments=arguments, next_app=self.app, **kwargs)
        concrete_paths_first(api.router)
        for route in self.router.routes:
            if isinstance(route, starlette.routing.Mount) and route.path == api.base_path:
                route.app.default = api.router  # type: ignore[attr-defined]
        self.router.mount(api.base_path, app=api.router)


# Set by middlewares outside Connexion's stack (request context, rate limits), so on the way
# out of the operation they are not there yet; the contract tests check them from outside.
HEADERS_ADDED_OUTSIDE = frozenset(
    {"x-request-id", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "retry-after"}
)


class _OuterHeadersAwareOperation(ResponseValidationOperation):
    @staticmethod
    def validate_required_headers(headers: list[tuple[bytes, bytes]], response_definition: dict[str, Any]) -> None:
        definition = {
            **response_definition,
            "headers": {
                name: header
                for name, header in response_definition.get("headers", {}).items()
                if name.lower() not in HEADERS_ADDED_OUTSIDE
            },
        }
        ResponseValidationOperation.validate_required_headers(headers, definition)


class _ResponseValidationAPI(ResponseValidationAPI):
    def make_operation(self, operation: AbstractOperation) -> Any:
        if self.validate_responses:
            return _OuterHeadersAwareOperation(self.next_app, operation=operation, validator_map=self.validator_map)
        return self.next_app


class OuterHeadersAwareResponseValidation(ResponseValidationMiddleware):
    """Response validation that leaves headers set by outer middlewares to the contract tests."""

    api_cls = _ResponseValidationAPI


class QuickSwaggerUIMiddleware(SwaggerUIMiddleware):
    """Swagger UI, without routing every API request through the UI's own router first."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and "/openapi." not in path and "/ui" not in path:
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def middlewares(validate_responses: bool) -> list[Any]:
    """Connexion's middleware stack, with the request path of core.dispatch in place of its
    security, request-validation and context layers.

    The router is the untyped one and Swagger UI the quick one. Response validation is left
    out when it is off (it would only pass every response on), and otherwise sits right
    after routing, where it sees every answer an operation gives.
    """
    replacements = {RoutingMiddleware: UntypedRoutingMiddleware, SwaggerUIMiddleware: QuickSwaggerUIMiddleware}
    replaced_by_dispatch = (SecurityMiddleware, RequestValidationMiddleware, ContextMiddleware)
    stack: list[Any] = []
    for middleware in ConnexionMiddleware.default_middlewares:
        if middleware is ResponseValidationMiddleware or middleware in replaced_by_dispatch:
            continue
        stack.append(replacements.get(middleware, middleware))
        if middleware is RoutingMiddleware:
            if validate_responses:
                stack.append(OuterHeadersAwareResponseValidation)
            stack.append(OperationMiddleware)
    return stack
