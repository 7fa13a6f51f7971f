"""SCP's error formats: RFC 9457 problems with `request_id` (and, for invalid input, `errors`
as `{field, message}` with the field's location) everywhere, except OAuth 2.0 token errors
(RFC 6749 §5.2) on the token endpoint."""

from __future__ import annotations

from typing import Any

from connexion.lifecycle import ConnexionRequest
from connexion.lifecycle import ConnexionResponse as Rendered

from core.oauth.errors import is_token_request, render_token_error
from core.problems import Problem, problem_response
from core.request_context import current_request_id
from core.validation import BODY_ROOT

VALIDATION_ERROR = "urn:scp:problem:validation-error"
RATE_LIMITED = "urn:scp:problem:rate-limited"


def _where(field: str) -> str:
    """The spec's location of an invalid part: `body`, `body.<path>`, or already located."""
    if field == BODY_ROOT:
        return "body"
    if field.startswith(("query.", "path.", "header.", "body.")):
        return field
    return f"body.{field}"


def render_problem(problem: Problem, request: ConnexionRequest) -> Rendered:
    if is_token_request(request.url.path):
        return render_token_error(problem, "scp")
    kind = problem.extensions.get("type") if problem.extensions else None
    if kind is None and problem.status == 400:
        kind = VALIDATION_ERROR
    if kind is None and problem.status == 429:
        kind = RATE_LIMITED
    body: dict[str, Any] = {"type": kind or "about:blank", "title": problem.title, "status": problem.status}
    if problem.detail:
        body["detail"] = problem.detail
    body["instance"] = request.url.path
    if problem.errors:
        body["errors"] = [
            {"field": _where(field), "message": message}
            for field, messages in problem.errors.items()
            for message in messages
        ][:100]
    body["request_id"] = current_request_id()
    return problem_response(problem.status, body, problem.headers)
