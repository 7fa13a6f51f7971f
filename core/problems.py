"""Typed API errors, and the dispatcher that renders every error in its API's own format.

Handlers raise `ApiProblem` subclasses; Connexion raises its own problems (validation,
security, unsupported media type) and Starlette its HTTP exceptions (unknown path, wrong
method). All of them meet here, are normalised to a `Problem`, and are written by the
renderer of the API whose prefix the request path falls under.
"""

from __future__ import annotations

import http
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from core.request_context import current_request_id

logger = logging.getLogger(__name__)

FieldErrors = dict[str, list[str]]


@dataclass(frozen=True)
class Problem:
    """An error, independent of the format its API writes it in."""

    status: int
    detail: str | None = None
    errors: FieldErrors | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def title(self) -> str:
        try:
            return http.HTTPStatus(self.status).phrase
        except ValueError:
            return "Error"


class ApiProblem(ProblemException):
    """Base of the errors handlers raise; the status is fixed by each subclass."""

    status_code = 500

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: FieldErrors | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status=self.status_code, detail=detail, headers=dict(headers or {}))
        self.errors = errors


class ValidationFailed(ApiProblem):
    status_code = 400


class Unauthorized(ApiProblem):
    status_code = 401


class Forbidden(ApiProblem):
    status_code = 403


class NotFound(ApiProblem):
    status_code = 404


class Conflict(ApiProblem):
    status_code = 409


def problem_from_exception(exc: Exception) -> Problem:
    """Normalise whatever was raised into a `Problem`."""
    if isinstance(exc, ApiProblem):
        return Problem(exc.status, exc.detail, exc.errors, exc.headers or {})
    if isinstance(exc, ProblemException):
        return Problem(exc.status, exc.detail, None, exc.headers or {})
    if isinstance(exc, HTTPException):
        detail = exc.detail if exc.detail != http.HTTPStatus(exc.status_code).phrase else None
        return Problem(exc.status_code, detail, None, exc.headers or {})
    return Problem(500)


Renderer = Callable[[Problem, ConnexionRequest], ConnexionResponse]


def problem_response(status: int, body: dict[str, object], headers: Mapping[str, str]) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=status,
        mimetype="application/problem+json",
        body=json.dumps(body, separators=(",", ":")),
        headers=dict(headers),
    )


def render_rfc9457(problem: Problem, request: ConnexionRequest) -> ConnexionResponse:
    """Plain RFC 9457 problem details, for paths that belong to no mounted API."""
    body: dict[str, object] = {"type": "about:blank", "title": problem.title, "status": problem.status}
    if problem.detail:
        body["detail"] = problem.detail
    body["instance"] = request.url.path
    body["requestId"] = current_request_id()
    return problem_response(problem.status, body, problem.headers)


class ProblemDispatcher:
    """Chooses the renderer by the longest mounted prefix that the request path falls under."""

    def __init__(self, fallback: Renderer = render_rfc9457) -> None:
        self._renderers: list[tuple[str, Renderer]] = []
        self._fallback = fallback

    def register(self, prefix: str, renderer: Renderer) -> None:
        self._renderers.append((prefix.rstrip("/"), renderer))
        self._renderers.sort(key=lambda item: len(item[0]), reverse=True)

    def renderer_for(self, path: str) -> Renderer:
        for prefix, renderer in self._renderers:
            if path == prefix or path.startswith(prefix + "/"):
                return renderer
        return self._fallback

    async def __call__(self, request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        problem = problem_from_exception(exc)
        if problem.status >= 500:
            logger.error("unhandled error (request %s)", current_request_id(), exc_info=exc)
        return self.renderer_for(request.url.path)(problem, request)
