"""The middleware stack, and routing that matches path parameters by position only.

Connexion routes `{id}` of type integer as `{id:int}`: `/orders/abc` then matches no
operation and falls through to a bare 404. The source contracts want 400 for a malformed
id, so the router here matches any segment and leaves the type to request validation,
which answers in the API's own error format.
"""

from __future__ import annotations

from typing import Any

import starlette.routing
from connexion.exceptions import UnsupportedMediaTypeProblem
from connexion.frameworks import starlette as starlette_utils
from connexion.middleware.main import ConnexionMiddleware
from connexion.middleware.request_validation import (
    RequestValidationAPI,
    RequestValidationMiddleware,
    RequestValidationOperation,
)
from connexion.middleware.response_validation import (
    ResponseValidationAPI,
    ResponseValidationMiddleware,
    ResponseValidationOperation,
)
from connexion.middleware.routing import RoutingAPI, RoutingMiddleware
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.operations import AbstractOperation
from starlette.types import Receive, Scope, Send

from core.direct_dispatch import DirectDispatchMiddleware


class UntypedRoutingAPI(RoutingAPI):
    @staticmethod
    def _framework_path_and_name(operation: AbstractOperation, path: str) -> tuple[str, str]:
        starlette_path = starlette_utils.starlettify_path(path, {})
        return starlette_path, starlette_path


class UntypedRoutingMiddleware(RoutingMiddleware):
    def add_api(
        self, specification: Any, base_path: str | None = None, arguments: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        api = UntypedRoutingAPI(specification, base_path=base_path, arguments=arguments, next_app=self.app, **kwargs)
        for route in self.router.routes:
            if isinstance(route, starlette.routing.Mount) and route.path == api.base_path:
                route.app.default = api.router  # type: ignore[attr-defined]
        self.router.mount(api.base_path, app=api.router)


class _DeclaredContentTypeOperation(RequestValidationOperation):
    """Refuses a body sent without a Content-Type (415) instead of guessing it.

    Connexion validates such a body as the operation's first media type, but the handler's
    framework does not parse it as one, so the handler would get raw bytes.
    """

    def extract_content_type(self, headers: list[tuple[bytes, bytes]]) -> tuple[str, str]:
        names = {name.lower() for name, _ in headers}
        has_body = b"transfer-encoding" in names or any(
            name.lower() == b"content-length" and value.strip() not in (b"", b"0") for name, value in headers
        )
        if has_body and b"content-type" not in names and self._operation.request_body:
            accepted = ", ".join(self._operation.consumes)
            raise UnsupportedMediaTypeProblem(detail=f"The request body has no Content-Type; expected {accepted}")
        content_type: tuple[str, str] = super().extract_content_type(headers)
        return content_type


class _RequestValidationAPI(RequestValidationAPI):
    def make_operation(self, operation: AbstractOperation) -> Any:
        return _DeclaredContentTypeOperation(
            self.next_app,
            operation=operation,
            strict_validation=self.strict_validation,
            validator_map=self.validator_map,
        )


class DeclaredContentTypeRequestValidation(RequestValidationMiddleware):
    """Connexion's request validation, refusing bodies without a Content-Type."""

    api_cls = _RequestValidationAPI


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


def middlewares(validate_responses: bool, direct_dispatch: bool = False) -> list[Any]:
    """Connexion's default middleware stack, with the untyped router and the quick Swagger UI.

    Response validation is left out when it is off (it would only pass every response on),
    and otherwise moved ahead of security: it only watches what is sent, so its place among
    the request-side layers changes nothing, and there it also covers direct dispatch.
    """
    replacements = {
        RoutingMiddleware: UntypedRoutingMiddleware,
        SwaggerUIMiddleware: QuickSwaggerUIMiddleware,
        RequestValidationMiddleware: DeclaredContentTypeRequestValidation,
    }
    stack: list[Any] = []
    for middleware in ConnexionMiddleware.default_middlewares:
        if middleware is ResponseValidationMiddleware:
            continue
        stack.append(replacements.get(middleware, middleware))
        if middleware is RoutingMiddleware:
            if validate_responses:
                stack.append(OuterHeadersAwareResponseValidation)
            if direct_dispatch:
                stack.append(DirectDispatchMiddleware)
    return stack
