"""The fast request path: Connexion's AsyncApp, handlers run inline, bodies checked by jsonschema-rs.

Stock Connexion FlaskApp hands every request from the event loop to a2wsgi's thread pool
and back, and validates bodies with the pure-Python jsonschema package. This path keeps
Connexion's routing, security and validation middleware exactly as they are and changes
three things:

1. The app is a `connexion.AsyncApp`, so no WSGI bridge and no Flask dispatch; each
   operation's decorated handler is built once instead of on every request.
2. Handlers (plain functions doing short database work) are wrapped in a coroutine that
   calls them inline instead of in a thread pool. A worker therefore runs one handler at a
   time; while a handler runs, the worker's other connections wait. Scale with workers
   (`WEB_CONCURRENCY`, one per core) and machines; see the README's deployment section.
3. JSON request bodies are first checked by jsonschema-rs against the same schema
   (OpenAPI 3.0 `nullable` and integer formats translated to JSON Schema). A body it
   accepts is accepted; a body it rejects is re-checked by the stock Python validator,
   which writes the error report, so errors stay exactly those of the stock path.

Operations without a request body skip Connexion's per-layer hand-off altogether: see
core/direct_dispatch.py. `REQUEST_PATH=stock` serves the same specs with stock FlaskApp,
for comparison.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import connexion
import jsonschema_rs
from connexion.apps.asynchronous import AsyncApi, AsyncOperation
from connexion.context import receive, scope
from connexion.datastructures import MediaTypeDict
from connexion.decorators import StarletteDecorator

from core.validation import FieldJSONBodyValidator, compiled, field_validator_map

_INTEGER_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


class _DecorateOnce(StarletteDecorator):
    """Connexion's decorator, but wrapping the handler once rather than on every request."""

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        decorated = self.decorate(function)

        @functools.wraps(function)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            request = self.framework.get_request(uri_parser=self.uri_parser, scope=scope, receive=receive)
            return await decorated(request)

        return wrapper


class _Operation(AsyncOperation):
    @functools.cached_property
    def fn(self) -> Callable[..., Any]:
        return _DecorateOnce(pythonic_params=self.pythonic_params, jsonifier=self.jsonifier)(self._fn)


class _Api(AsyncApi):
    def make_operation(self, operation: Any) -> AsyncOperation:
        return _Operation.from_operation(operation, pythonic_params=self.pythonic_params, jsonifier=self.jsonifier)


class FastApp(connexion.AsyncApp):
    """Connexion's AsyncApp, with each operation's decorated handler built once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._middleware_app.api_cls = _Api


def inline(handler: Callable[..., Any]) -> Callable[..., Any]:
    """A coroutine that runs the synchronous `handler` on the event loop, without a thread hop."""

    @functools.wraps(handler)
    async def run_inline(*args: Any, **kwargs: Any) -> Any:
        return handler(*args, **kwargs)

    return run_inline


def to_json_schema(schema: Any) -> Any:
    """Translate an (already dereferenced) OpenAPI 3.0 schema into plain JSON Schema draft 4."""
    if isinstance(schema, list):
        return [to_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: to_json_schema(value) for key, value in schema.items() if key != "nullable"}
    if schema.get("nullable") is True:
        if "type" in converted:
            converted["type"] = [converted["type"], "null"]
        if "enum" in converted and None not in converted["enum"]:
            converted["enum"] = [*converted["enum"], None]
    bounds = _INTEGER_RANGES.get(str(schema.get("format")))
    if bounds and schema.get("type") == "integer":
        low, high = bounds
        converted["minimum"] = max(converted.get("minimum", low), low)
        converted["maximum"] = min(converted.get("maximum", high), high)
    return converted


class RustJSONBodyValidator(FieldJSONBodyValidator):
    """Accepts what jsonschema-rs accepts; anything else goes to the stock validator for its errors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rust = compiled(self._schema, _rust_validator)

    def _validate(self, body: Any) -> dict[str, Any] | None:
        if body is not None and self._rust.is_valid(body):
            return None
        return super()._validate(body)


def _rust_validator(schema: dict[str, Any], format_checker: Any) -> Any:
    return jsonschema_rs.Draft4Validator(to_json_schema(schema))


def fast_validator_map() -> dict[str, Any]:
    validators = field_validator_map()
    body = MediaTypeDict(dict(validators["body"]))
    body["*/*json"] = RustJSONBodyValidator
    return {**validators, "body": body}
