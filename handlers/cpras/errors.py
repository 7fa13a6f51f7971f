"""CPRAS's error formats: OAuth 2.0 token errors (RFC 6749 §5.2) on the token endpoint, with
`Cache-Control: no-store`, and RFC 9457 problem details, with `errors` as `{field,
message}`, everywhere else."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from connexion.lifecycle import ConnexionRequest
from connexion.lifecycle import ConnexionResponse as Rendered
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from core.oauth.errors import is_token_request, render_token_error
from core.problems import Problem, problem_response
from core.ratelimit import Quota


def render_problem(problem: Problem, request: ConnexionRequest) -> Rendered:
    if is_token_request(request.url.path):
        return render_token_error(problem, "cpras")
    body: dict[str, Any] = {"type": "about:blank", "title": problem.title, "status": problem.status}
    if problem.detail:
        body["detail"] = problem.detail
    body["instance"] = request.url.path
    if problem.errors:
        body["errors"] = [
            {"field": field, "message": message} for field, messages in problem.errors.items() for message in messages
        ][:100]
    return problem_response(problem.status, body, problem.headers)


def rejection(what: str) -> Callable[[Scope, Receive, Send, Quota], Awaitable[None]]:
    """A 429 of a failure limit, in the format of the path it answers."""

    async def reject(scope: Scope, receive: Receive, send: Send, quota: Quota) -> None:
        detail = f"Too many failed {what}; retry in {quota.retry_after} seconds."
        rendered = render_problem(Problem(429, detail), ConnexionRequest(scope, receive))
        response = Response(rendered.body, rendered.status_code, dict(rendered.headers or {}), rendered.mimetype)
        await response(scope, receive, send)

    return reject
