"""CPRAS's error formats: OAuth 2.0 token errors (RFC 6749 §5.2) on the token endpoint, with
`Cache-Control: no-store`, and RFC 9457 problem details, with `errors` as `{field,
message}`, everywhere else."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from connexion.lifecycle import ConnexionRequest
from connexion.lifecycle import ConnexionResponse as Rendered
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from core.oauth.server import NO_STORE
from core.problems import Problem, problem_response
from core.ratelimit import Quota
from core.validation import BODY_ROOT

TOKEN_PATH = "/oauth/token"  # noqa: S105 - a path
# The token endpoint's error code for each status it answers with a problem of the core's.
TOKEN_ERRORS = {401: "invalid_client", 429: "temporarily_unavailable", 500: "server_error"}


def is_token_request(path: str) -> bool:
    return path.endswith(TOKEN_PATH)


def render_problem(problem: Problem, request: ConnexionRequest) -> Rendered:
    if is_token_request(request.url.path):
        return render_token_error(problem)
    body: dict[str, Any] = {"type": "about:blank", "title": problem.title, "status": problem.status}
    if problem.detail:
        body["detail"] = problem.detail
    body["instance"] = request.url.path
    if problem.errors:
        body["errors"] = [
            {"field": field, "message": message} for field, messages in problem.errors.items() for message in messages
        ][:100]
    return problem_response(problem.status, body, problem.headers)


def render_token_error(problem: Problem) -> Rendered:
    """A 4xx the core raised (unreadable body, 413, 415) is `invalid_request`; its detail says
    what is wrong, field by field ("client_id: Must be a string.")."""
    described = " ".join(
        message if field == BODY_ROOT else f"{field}: {message}"
        for field, messages in (problem.errors or {}).items()
        for message in messages
    )
    body = {"error": TOKEN_ERRORS.get(problem.status, "invalid_request")}
    if described or problem.detail:
        body["error_description"] = described or str(problem.detail)
    headers = {**problem.headers, **NO_STORE}
    if problem.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="cpras"'
    return Rendered(status_code=problem.status, mimetype="application/json", body=json.dumps(body), headers=headers)


def rejection(what: str) -> Callable[[Scope, Receive, Send, Quota], Awaitable[None]]:
    """A 429 of a failure limit, in the format of the path it answers."""

    async def reject(scope: Scope, receive: Receive, send: Send, quota: Quota) -> None:
        detail = f"Too many failed {what}; retry in {quota.retry_after} seconds."
        rendered = render_problem(Problem(429, detail), ConnexionRequest(scope, receive))
        response = Response(rendered.body, rendered.status_code, dict(rendered.headers or {}), rendered.mimetype)
        await response(scope, receive, send)

    return reject
