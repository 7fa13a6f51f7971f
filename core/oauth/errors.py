"""A token endpoint's errors in its own format (RFC 6749 §5.2), for the problems the core
raises before the token server sees the request: an unreadable body, 413, 415, 429, 500."""

from __future__ import annotations

import json

from connexion.lifecycle import ConnexionResponse as Rendered

from core.oauth.server import NO_STORE
from core.problems import Problem
from core.validation import BODY_ROOT

TOKEN_PATH = "/oauth/token"  # noqa: S105 - a path, where every API serves its token endpoint
# The token endpoint's error code for each status it answers with a problem of the core's.
TOKEN_ERRORS = {401: "invalid_client", 429: "temporarily_unavailable", 500: "server_error"}


def is_token_request(path: str) -> bool:
    return path.endswith(TOKEN_PATH)


def render_token_error(problem: Problem, realm: str) -> Rendered:
    """A 4xx the core raised is `invalid_request`; its detail says what is wrong, field by
    field ("client_id: Must be a string."). Never cached; a 401 challenges for Basic."""
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
        headers["WWW-Authenticate"] = f'Basic realm="{realm}"'
    return Rendered(status_code=problem.status, mimetype="application/json", body=json.dumps(body), headers=headers)
