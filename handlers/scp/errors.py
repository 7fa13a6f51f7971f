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
from core.validation import BODY_ROOT, PARAMETERS_INVALID
from handlers.scp.calls import PROBLEM, extensions
from models.scp.access import INSUFFICIENT_SCOPE

VALIDATION_ERROR = "urn:scp:problem:validation-error"
RATE_LIMITED = "urn:scp:problem:rate-limited"
# Types by status, for the problems raised without one: a scope the security check found
# missing (403), a body Connexion refused (400), a limiter's refusal (429).
HEADERS = frozenset({"idempotency-key"})  # the header parameters of the spec
DEFAULT_TYPES = {400: VALIDATION_ERROR, 403: INSUFFICIENT_SCOPE, 429: RATE_LIMITED}


def _where(field: str, request: ConnexionRequest, parameters: bool) -> str:
    """The spec's location of an invalid part: `body`, `body.<path>`, `query.<name>`,
    `path.<name>` or `header.<name>` (a parameter refusal names parameters only)."""
    if field == BODY_ROOT:
        return "body"
    if field.startswith(("query.", "path.", "header.", "body.")):
        return field
    if not parameters:
        return f"body.{field}"
    if field == "$query":
        return "query"
    if field in request.path_params:
        return f"path.{field}"
    if field.lower() in HEADERS:
        return f"header.{field}"
    return f"query.{field}"


def render_problem(problem: Problem, request: ConnexionRequest) -> Rendered:
    if is_token_request(request.url.path):
        return render_token_error(problem, "scp")
    kind = (problem.extensions.get("type") if problem.extensions else None) or DEFAULT_TYPES.get(
        problem.status, "about:blank"
    )
    extensions(request.scope)[PROBLEM] = (kind, problem.detail)  # for the API call log
    body: dict[str, Any] = {"type": kind, "title": problem.title, "status": problem.status}
    if problem.detail:
        body["detail"] = problem.detail
    body["instance"] = request.url.path
    if problem.errors:
        body["errors"] = [
            {"field": _where(field, request, problem.detail == PARAMETERS_INVALID)[:300], "message": message}
            for field, messages in problem.errors.items()
            for message in messages
        ][:100]
    body["request_id"] = current_request_id()
    if problem.extensions and "exchange_id" in problem.extensions:  # the exchange log entry of a refusal
        body["exchange_id"] = problem.extensions["exchange_id"]
    return problem_response(problem.status, body, problem.headers)
