"""The Order-Accept API as the core serves it: its settings, security, error format and demo data."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from connexion.lifecycle import ConnexionRequest, ConnexionResponse

from core.api import Api, Mounted
from core.jwt_bearer import JWTVerifier, issue_token, token_principal
from core.problems import Problem, problem_response
from core.request_context import current_request_id
from core.security import Verifier
from models.order_accept.demo import DEMO_CUSTOMERS, load_demo_data
from models.order_accept.settings import OrderAcceptSettings

VALIDATION_TITLE = "One or more validation errors occurred."


def security(mounted: Mounted[OrderAcceptSettings]) -> Mapping[str, Verifier]:
    """Tokens from the partner's identity provider: verified by signature and claims alone."""
    return {"bearerAuth": token_principal(JWTVerifier(mounted.config.jwt))}


def render_problem(problem: Problem, request: ConnexionRequest) -> ConnexionResponse:
    """ProblemDetails, or ValidationProblemDetails (with `errors`) for a 400.

    `instance` is the path alone: a query string may carry something secret.
    """
    body: dict[str, Any] = {
        "type": f"https://httpstatuses.com/{problem.status}",
        "title": VALIDATION_TITLE if problem.status == 400 else problem.title,
        "status": problem.status,
    }
    if problem.detail:
        body["detail"] = problem.detail
    body["instance"] = request.url.path
    if problem.status == 400:
        body["errors"] = problem.errors or {"$": [problem.detail or "The request is invalid."]}
    body["traceId"] = current_request_id()
    headers = dict(problem.headers)
    if problem.status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return problem_response(problem.status, body, headers)


def bearer(settings: OrderAcceptSettings, user_id: str) -> str:
    return f"Bearer {issue_token(settings.jwt, {'sub': user_id})}"


def demo_credentials(mounted: Mounted[OrderAcceptSettings]) -> dict[str, Any]:
    """A fresh token for each demo customer."""
    return {
        customer.name: {"authorization": bearer(mounted.config, customer.user_id), "userId": customer.user_id}
        for customer in DEMO_CUSTOMERS
    }


class DemoClient:
    """A client that is a new customer of its own, until it starts over."""

    def __init__(self, mounted: Mounted[OrderAcceptSettings]) -> None:
        self.settings = mounted.config
        self.authorization = ""
        self.renew()

    def renew(self) -> None:
        self.authorization = bearer(self.settings, f"contract-{uuid.uuid4()}")

    def headers_for(self, operation_id: str | None) -> dict[str, str]:
        return {"Authorization": self.authorization}


API: Api[OrderAcceptSettings] = Api(
    name="order_accept",
    prefix="/order-accept",
    spec="order_accept.yaml",
    handlers="handlers.order_accept",
    settings=OrderAcceptSettings.from_env,
    security=security,
    render_problem=render_problem,
    models=("models.order_accept.tables",),
    load_demo=lambda unit, _settings: load_demo_data(unit),
    demo_credentials=demo_credentials,
    demo_client=DemoClient,
)
