"""CPRAS's error formats: OAuth 2.0 token errors (RFC 6749 §5.2) on the token endpoint, with
`Cache-Control: no-store`, and RFC 9457 problem details, with `errors` as `{field,
message}`, everywhere else."""

from __future__ import annotations

from typing import Any

from connexion.lifecycle import ConnexionRequest
from connexion.lifecycle import ConnexionResponse as Rendered

from core.oauth.errors import is_token_request, render_token_error
from core.problems import Problem, problem_response


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
