"""How the Order-Accept API authenticates callers and writes its errors (ASP.NET Core ProblemDetails)."""

from __future__ import annotations

from typing import Any

from connexion.lifecycle import ConnexionRequest, ConnexionResponse

from core.config import Settings
from core.database import Database
from core.jwt_bearer import JWTVerifier, bearer_security_handler
from core.problems import Problem, problem_response
from core.request_context import current_request_id

VALIDATION_TITLE = "One or more validation errors occurred."


def security_map(settings: Settings, database: Database) -> dict[str, Any]:
    """Tokens from the partner's identity provider: verified by signature and claims alone."""
    return {"bearer": bearer_security_handler(JWTVerifier(settings.order_accept_jwt))}


def render_problem(problem: Problem, request: ConnexionRequest) -> ConnexionResponse:
    """ProblemDetails, or ValidationProblemDetails (with `errors`) for a 400."""
    body: dict[str, Any] = {
        "type": f"https://httpstatuses.com/{problem.status}",
        "title": VALIDATION_TITLE if problem.status == 400 else problem.title,
        "status": problem.status,
    }
    if problem.detail:
        body["detail"] = problem.detail
    query = request.url.query
    body["instance"] = request.url.path + (f"?{query}" if query else "")
    if problem.status == 400:
        body["errors"] = problem.errors or {"$": [problem.detail or "The request is invalid."]}
    body["traceId"] = current_request_id()
    headers = dict(problem.headers)
    if problem.status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return problem_response(problem.status, body, headers)
