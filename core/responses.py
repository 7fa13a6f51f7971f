"""Successful responses with an explicit media type.

Operations that document both `application/json` and `application/problem+json` leave
Connexion unable to infer which one a handler means, so handlers say it.
"""

from __future__ import annotations

from typing import Any

import flask

JSON = "application/json"


def json_body(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> tuple[Any, int, dict[str, str]]:
    return body, status, {"Content-Type": JSON, **(headers or {})}


def no_content() -> flask.Response:
    """A 204 with no body and so no Content-Type (Flask would otherwise add text/html)."""
    response = flask.Response(status=204)
    del response.headers["Content-Type"]
    return response
