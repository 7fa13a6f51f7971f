"""Mihwar's error format: RFC 9457 problem details, with an `errors` list of `{pointer, detail}`
(and SCIM's own under `/api/scim/v2`, handlers/mihwar/scim_errors.py).

Each invalid field is named as the spec's `ProblemFieldError` says: a JSON Pointer into the
body (`/lines/0/orderedQty`), or the name of the invalid parameter. The core reports both
by field path (`lines[0].orderedQty`, a parameter by its name), so parameter names are told
apart by the spec's own list of them. `instance` is the path alone: a query string may
carry something secret.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import yaml
from connexion.lifecycle import ConnexionRequest
from connexion.lifecycle import ConnexionResponse as Rendered

from core.config import PROJECT_ROOT
from core.problems import Problem, Reject, problem_response
from core.problems import rejection as problem_rejection
from core.validation import BODY_ROOT
from handlers.mihwar.scim_errors import is_scim, render_scim_error

SPEC = PROJECT_ROOT / "specs" / "mihwar.yaml"
# RFC 9110's names, where Python's status phrases still have the older ones.
TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}
_STEP = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")


@functools.cache
def parameter_names() -> frozenset[str]:
    """Every parameter name the spec declares, shared or on an operation."""
    document = yaml.safe_load(SPEC.read_text())
    declared = list(document.get("components", {}).get("parameters", {}).values())
    for item in document.get("paths", {}).values():
        declared += item.get("parameters", [])
        declared += [
            parameter
            for operation in item.values()
            if isinstance(operation, dict)
            for parameter in operation.get("parameters", [])
        ]
    return frozenset(parameter["name"] for parameter in declared if "name" in parameter)


def pointer(field: str) -> str:
    """A field path (`lines[0].orderedQty`, `$` for the body) as a JSON Pointer; a parameter's name as it is."""
    if field in parameter_names() or field.startswith("$query"):
        return field
    if field == BODY_ROOT:
        return ""
    steps = [name or index for name, index in _STEP.findall(field)]
    return "".join("/" + step.replace("~", "~0").replace("/", "~1") for step in steps)


def render_problem(problem: Problem, request: ConnexionRequest) -> Rendered:
    if is_scim(request):
        fields = [
            (pointer(field), message) for field, messages in (problem.errors or {}).items() for message in messages
        ]
        return render_scim_error(problem, fields)
    title = TITLES.get(problem.status, problem.title)
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": problem.status}
    if problem.detail:
        body["detail"] = problem.detail
    body["instance"] = request.url.path
    if problem.errors:
        body["errors"] = [
            {"pointer": pointer(field), "detail": message}
            for field, messages in problem.errors.items()
            for message in messages
        ][:100]
    headers = dict(problem.headers)
    if problem.status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="mihwar"')
    return problem_response(problem.status, body, headers)


def rejection(rate: str, what: str = "requests") -> Reject:
    """A rate limiter's 429, in this format, naming the limit (`rate`, such as "120/minute")."""
    amount, _, per = rate.partition("/")
    detail = f"Rate limit of {amount.strip()} {what} per {per.strip() or 'window'} exceeded."
    return problem_rejection(render_problem, lambda quota: detail)
