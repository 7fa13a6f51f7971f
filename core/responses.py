"""What handlers return, and how it becomes an HTTP response.

A handler returns a body (sent as JSON with 200), a `(body, status, headers)` tuple, a
`ConnexionResponse` (for 204s and files), or any Starlette `Response`. Operations that
document both `application/json` and `application/problem+json` leave the media type
ambiguous, so `json_body` says it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

from connexion.context import scope as current_scope
from connexion.lifecycle import ConnexionResponse
from connexion.middleware.abstract import ROUTING_CONTEXT
from starlette.responses import Response, StreamingResponse

JSON = "application/json"

Json = tuple[Any, int, dict[str, str]]


def json_body(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Json:
    return body, status, {"Content-Type": JSON, **(headers or {})}


def created(body: Any, location: str, headers: Mapping[str, str] | None = None) -> Json:
    """A 201 with the new resource's `Location`."""
    return json_body(body, 201, {"Location": location, **(headers or {})})


def no_content() -> ConnexionResponse:
    """A 204: no body, and so no Content-Type."""
    return ConnexionResponse(status_code=204)


def location(template: str, **values: object) -> str:
    """The absolute path of a resource of the API serving this request: `template` (a path of
    its spec, such as "/purchase-orders/{id}") filled in, below the API's prefix."""
    scope = current_scope
    routed = scope.get("extensions", {}).get(ROUTING_CONTEXT, {})
    prefix = str(scope.get("root_path", "")) + str(routed.get("api_base_path", ""))
    path = template.format(**{name: quote(str(value), safe="") for name, value in values.items()})
    return prefix + path


def to_response(result: Any) -> Response:
    """The HTTP response a handler's return value stands for."""
    if isinstance(result, Response):
        return result
    if isinstance(result, ConnexionResponse):
        headers = dict(result.headers or {})
        media_type = headers.pop("Content-Type", None) or result.mimetype or result.content_type or JSON
        body = result.body
        if isinstance(body, Iterator) or (isinstance(body, Iterable) and not isinstance(body, bytes | str | Mapping)):
            return StreamingResponse(body, result.status_code, headers, media_type)
        return _with_body(body, result.status_code, headers, media_type)
    if isinstance(result, tuple):
        body, status, headers = (*result, {}) if len(result) == 2 else result
    else:
        body, status, headers = result, 200, {}
    headers = dict(headers)
    return _with_body(body, status, headers, headers.pop("Content-Type", None) or JSON)


def _with_body(body: Any, status: int, headers: dict[str, str], media_type: str) -> Response:
    if body is None:
        return Response(None, status, headers, media_type if status not in (204, 304) else None)
    if media_type.endswith("json") and not isinstance(body, bytes | str):
        body = json.dumps(body, separators=(",", ":"))
    return Response(body, status, headers, media_type)
