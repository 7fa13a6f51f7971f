"""The lifecycle operations: one handler each, all applying the state table of
models/scp/lifecycle.py."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from core.responses import Json, json_body
from core.unit_of_work import current_unit
from handlers.scp import dto
from handlers.scp.context import idempotent
from models.scp.access import Caller
from models.scp.integrations import IntegrationService
from models.scp.lifecycle import TRANSITIONS

SECRET = "auth_client_secret"  # noqa: S105 - a member name


def _move(principal: Caller, integration_id: str, operation: str, body: dict[str, Any] | None = None) -> Response:
    def move() -> Json:
        moved = IntegrationService(current_unit(), principal).move(integration_id, operation, body)
        integration = moved.integration
        answer: dict[str, Any] = {"integration_id": integration.integration_id, "status": integration.status}
        stamp = TRANSITIONS[operation].stamp
        if operation == "activate":
            answer["auth_client_id"] = integration.auth_client_id
            if moved.issued is not None:
                answer[SECRET] = moved.issued.secret
        answer[stamp] = dto.stamp(getattr(integration, stamp))
        return json_body(answer)

    return idempotent(principal, move, _without_secret)


def _without_secret(response: Response) -> Response:
    """What a replay of an activation answers: the same, but never the secret (shown once)."""
    body = json.loads(bytes(response.body))
    if SECRET not in body:
        return response
    del body[SECRET]
    return Response(json.dumps(body), response.status_code, media_type="application/json")


def request_integration_review(principal: Caller, integration_id: str, body: dict[str, Any]) -> Response:
    """Submit a draft integration for review."""
    return _move(principal, integration_id, "request-review", body)


def review_integration(principal: Caller, integration_id: str, body: dict[str, Any] | None = None) -> Response:
    """Record the review of a requested integration."""
    return _move(principal, integration_id, "review", body)


def approve_integration(principal: Caller, integration_id: str, body: dict[str, Any]) -> Response:
    """Approve a reviewed integration."""
    return _move(principal, integration_id, "approve", body)


def activate_integration(principal: Caller, integration_id: str) -> Response:
    """Activate an integration, issuing its own client the first time."""
    return _move(principal, integration_id, "activate")


def restrict_integration(principal: Caller, integration_id: str, body: dict[str, Any]) -> Response:
    """Restrict an active integration to pushing data."""
    return _move(principal, integration_id, "restrict", body)


def suspend_integration(principal: Caller, integration_id: str, body: dict[str, Any]) -> Response:
    """Suspend an integration's data exchange."""
    return _move(principal, integration_id, "suspend", body)


def deprecate_integration(principal: Caller, integration_id: str, body: dict[str, Any]) -> Response:
    """Deprecate an integration, keeping the exchange it had."""
    return _move(principal, integration_id, "deprecate", body)


def archive_integration(principal: Caller, integration_id: str, body: dict[str, Any]) -> Response:
    """Archive an integration, and its contracts with it."""
    return _move(principal, integration_id, "archive", body)
