"""SCIM's error format (RFC 7644 §3.12), for everything under `/api/scim/v2`.

The directory services raise scim2-models' exceptions, which know their status and
`scimType`; `problem_of` turns one into the core's problem, and `render_scim_error` writes
any problem (the core's own too: 400 from the schema, 401 from the token check, 415, 500)
as a SCIM Error, `application/scim+json`, with `status` as a string as the RFC has it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from connexion.lifecycle import ConnexionRequest
from connexion.lifecycle import ConnexionResponse as Rendered
from scim2_models import SCIMException

from core.problems import ApiProblem, Problem
from core.validation import BODY_ROOT

SCIM_PATH = "/api/scim/v2"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
MEDIA_TYPE = "application/scim+json"


class ScimProblem(ApiProblem):
    """A SCIM error with its own status (400, 404, 409, 412, …) and `scimType`."""

    def __init__(self, status: int, detail: str | None, scim_type: str | None) -> None:
        self.status_code = status
        super().__init__(detail, extensions={"scimType": scim_type} if scim_type else None)


def problem_of(exc: SCIMException) -> ScimProblem:
    error = exc.to_error()
    return ScimProblem(int(error.status or 400), error.detail, error.scim_type)


def is_scim(request: ConnexionRequest) -> bool:
    return SCIM_PATH in request.url.path


def render_scim_error(problem: Problem, fields: Sequence[tuple[str, str]] = ()) -> Rendered:
    """`fields` are the invalid fields as (JSON Pointer or parameter name, message): SCIM's
    error has no list of them, so `detail` says them all ("/userName: Must be a string.")."""
    body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(problem.status)}
    scim_type = problem.extensions.get("scimType") or _scim_type_of_invalid(problem)
    if scim_type:
        body["scimType"] = scim_type
    detail = " ".join(f"{where}: {message}" if where else message for where, message in fields) or problem.detail
    if detail:
        body["detail"] = detail
    headers = dict(problem.headers)
    if problem.status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="mihwar-scim"')
    return Rendered(
        status_code=problem.status,
        mimetype=MEDIA_TYPE,
        body=json.dumps(body, separators=(",", ":")),
        headers=headers,
    )


def _scim_type_of_invalid(problem: Problem) -> str | None:
    """The `scimType` of the core's own 400s: a body that cannot be read as JSON is
    `invalidSyntax`; a value the schema refuses (a wrong type, a missing attribute, a bad
    parameter) is `invalidValue`."""
    if problem.status != 400 or not problem.errors:
        return None
    unreadable = set(problem.errors) == {BODY_ROOT} and problem.detail in problem.errors[BODY_ROOT]
    return "invalidSyntax" if unreadable else "invalidValue"
