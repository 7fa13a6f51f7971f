"""Webhook subscriptions of the signed-in administrator's organization, and their delivery log."""

from __future__ import annotations

from typing import Any

from connexion.lifecycle import ConnexionResponse

from core.responses import Json, json_body, no_content
from core.unit_of_work import current_unit
from handlers.mihwar import dto
from handlers.mihwar.context import cursors, mihwar_settings
from models.mihwar.accounts import SignedIn
from models.mihwar.webhooks import SubscriptionService


def _service() -> SubscriptionService:
    return SubscriptionService(current_unit(), mihwar_settings().webhooks)


def create_webhook_subscription(principal: SignedIn, body: dict[str, Any]) -> Json:
    """Subscribe a URL to the organization's events; the secret is in this answer only."""
    created = _service().create(principal, body["url"], body.get("events"))
    return json_body({"data": dto.new_subscription(created)}, 201)


def list_webhook_subscriptions(principal: SignedIn) -> Json:
    """List the organization's subscriptions, without their secrets."""
    return json_body({"data": dto.subscriptions.dump(_service().list(principal))})


def delete_webhook_subscription(principal: SignedIn, id: str) -> ConnexionResponse:  # noqa: A002 - the spec names it
    """Delete a subscription."""
    _service().delete(principal, id)
    return no_content()


def list_webhook_delivery_attempts(
    principal: SignedIn,
    id: str,  # noqa: A002 - the spec names it
    limit: int = 50,
    cursor: str | None = None,
) -> Json:
    """List a subscription's delivery attempts, newest first."""
    found = _service().attempts(principal, id, limit, cursor, cursors())
    return json_body(dto.page(dto.attempts, found))
