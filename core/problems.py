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
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from core.challenges import challenge_of, with_challenge
from core.ratelimit import Quota
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
    extensions: Mapping[str, Any] = field(default_factory=dict)

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
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(status=self.status_code, detail=detail, headers=dict(headers or {}))
        self.errors = errors
        # Members an API's format adds to the error (e.g. an error code, or context).
        self.extensions = dict(extensions or {})


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


class PayloadTooLarge(ApiProblem):
    status_code = 413


class UnsupportedMediaType(ApiProblem):
    status_code = 415


class Unprocessable(ApiProblem):
    status_code = 422


class Locked(ApiProblem):
    status_code = 423


def problem_from_exception(exc: Exception) -> Problem:
    """Normalise whatever was raised into a `Problem`."""
    if isinstance(exc, ApiProblem):
        return Problem(exc.status, exc.detail, exc.errors, exc.headers or {}, exc.extensions)
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


_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_TEMPLATE_PARAMETER = re.compile(r"\\{[^/]+?\\}")


class AllowedMethods:
    """The methods a spec documents for each of its paths, for the `Allow` header of a 405."""

    def __init__(self, prefix: str, paths: Mapping[str, Mapping[str, object]]) -> None:
        self._templates = [
            (
                re.compile("^" + _TEMPLATE_PARAMETER.sub("[^/]+", re.escape(prefix + template)) + "$"),
                ", ".join(method.upper() for method in _HTTP_METHODS if method in item),
            )
            for template, item in paths.items()
        ]

    def for_path(self, path: str) -> str | None:
        return next((allowed for pattern, allowed in self._templates if pattern.match(path)), None)


@dataclass(frozen=True)
class _Api:
    prefix: str
    renderer: Renderer
    allowed: AllowedMethods


class ProblemDispatcher:
    """Chooses the renderer by the longest mounted prefix that the request path falls under."""

    def __init__(self, fallback: Renderer = render_rfc9457) -> None:
        self._apis: list[_Api] = []
        self._fallback = fallback

    def register(self, prefix: str, renderer: Renderer, paths: Mapping[str, Mapping[str, object]]) -> None:
        prefix = prefix.rstrip("/")
        self._apis.append(_Api(prefix, renderer, AllowedMethods(prefix, paths)))
        self._apis.sort(key=lambda api: len(api.prefix), reverse=True)

    def api_for(self, path: str) -> _Api | None:
        return next((api for api in self._apis if path == api.prefix or path.startswith(api.prefix + "/")), None)

    async def __call__(self, request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        problem = problem_from_exception(exc)
        if problem.status >= 500 and isinstance(exc, ApiProblem):  # an answer a handler chose (501, 503)
            logger.warning("answered %s (request %s): %s", problem.status, current_request_id(), problem.detail)
        elif problem.status >= 500:
            logger.error("unhandled error (request %s)", current_request_id(), exc_info=exc)
        api = self.api_for(request.url.path)
        if api is None:
            return self._fallback(problem, request)
        if problem.status == 405:
            allowed = api.allowed.for_path(request.url.path)
            if allowed:
                problem = replace(problem, headers={**problem.headers, "Allow": allowed})
        headers = with_challenge(problem.status, problem.headers, challenge_of(request.scope))
        return api.renderer(replace(problem, headers=headers), request)


Reject = Callable[[Scope, Receive, Send, Quota], Awaitable[None]]


def rejection(render: Renderer, detail: Callable[[Quota], str]) -> Reject:
    """A limiter's 429 (a rate limit, a failure limit), written by the API's own renderer as
    an error of the path it answers would be."""

    async def reject(scope: Scope, receive: Receive, send: Send, quota: Quota) -> None:
        rendered = render(Problem(429, detail(quota)), ConnexionRequest(scope, receive))
        response = Response(rendered.body, rendered.status_code, dict(rendered.headers or {}), rendered.mimetype)
        await response(scope, receive, send)

    return reject
