"""Successful responses with an explicit media type.

Operations that document both `application/json` and `application/problem+json` leave
Connexion unable to infer which one a handler means, so handlers say it.
"""

from __future__ import annotations

from typing import Any

from connexion.lifecycle import ConnexionResponse

JSON = "application/json"


def json_body(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> tuple[Any, int, dict[str, str]]:
    return body, status, {"Content-Type": JSON, **(headers or {})}


def no_content() -> ConnexionResponse:
    """A 204: no body, and so no Content-Type."""
    return ConnexionResponse(status_code=204)
