"""Webhook subscriptions of an integration: list, subscribe, update, rotate the signing key,
disable, and the public keys receivers verify with."""

from __future__ import annotations

from typing import Any

from marshmallow import fields
from starlette.responses import Response

from core.dto import Dto, Stamp
from core.responses import Json, created, json_body, location
from core.unit_of_work import current_unit
from handlers.scp import dto
from handlers.scp.context import idempotent, scp_settings
from models.scp.access import Caller
from models.scp.webhooks import WebhookService


class WebhookDto(Dto):
    webhook_id = fields.String()
    integration_id = fields.String()
    target_url = fields.String()
    event_types = fields.List(fields.String())
    status = fields.String()
    active_from = Stamp()
    active_until = Stamp(allow_none=True)
    public_key_id = fields.String()
    created_at = Stamp()
    updated_at = Stamp()
    secret_rotated_at = Stamp(allow_none=True)
    disabled_at = Stamp(allow_none=True)


webhooks_dto = WebhookDto(many=True)


def _service(principal: Caller) -> WebhookService:
    return WebhookService(current_unit(), principal, scp_settings().webhooks)


def list_integration_webhooks(
    principal: Caller, integration_id: str, page: int, limit: int, status: str | None = None
) -> Json:
    """List an integration's webhooks, newest first."""
    rows, total = _service(principal).page(integration_id, status, page, limit)
    return json_body(dto.page(page, limit, total, webhooks_dto.dump(rows)))


def create_integration_webhook(principal: Caller, integration_id: str, body: dict[str, Any]) -> Response:
    """Subscribe a URL to an integration's events, with a new Ed25519 signing key."""

    def create() -> Json:
        webhook = _service(principal).create(integration_id, dto.with_times(body))
        answer = {
            "webhook_id": webhook.webhook_id,
            "status": webhook.status,
            "created_at": dto.stamp(webhook.created_at),
            "public_key_id": webhook.public_key_id,
        }
        path = location("/integrations/{id}/webhooks/{webhook}", id=integration_id, webhook=webhook.webhook_id)
        return created(answer, path)

    return idempotent(principal, create)


def update_integration_webhook(
    principal: Caller, integration_id: str, webhook_id: str, body: dict[str, Any]
) -> Response:
    """Change a webhook's target, event types or end."""

    def update() -> Json:
        webhook = _service(principal).update(integration_id, webhook_id, dto.with_times(body))
        return json_body({"webhook_id": webhook.webhook_id, "updated_at": dto.stamp(webhook.updated_at)})

    return idempotent(principal, update)


def rotate_integration_webhook_secret(
    principal: Caller, integration_id: str, webhook_id: str, body: dict[str, Any]
) -> Response:
    """Sign with a new key; the previous one keeps signing and verifying for 24 hours."""

    def rotate() -> Json:
        rotated = _service(principal).rotate(integration_id, webhook_id)
        answer = {
            "webhook_id": rotated.webhook.webhook_id,
            "public_key_id": rotated.webhook.public_key_id,
            "previous_public_key_id": rotated.previous.key_id,
            "previous_key_expires_at": dto.stamp(rotated.previous.expires_at),
            "rotated_at": dto.stamp(rotated.webhook.secret_rotated_at),
        }
        return json_body(answer)

    return idempotent(principal, rotate)


def disable_integration_webhook(
    principal: Caller, integration_id: str, webhook_id: str, body: dict[str, Any]
) -> Response:
    """Stop a webhook's deliveries at once."""

    def disable() -> Json:
        webhook = _service(principal).disable(integration_id, webhook_id, body)
        answer = {
            "webhook_id": webhook.webhook_id,
            "status": webhook.status,
            "disabled_at": dto.stamp(webhook.disabled_at),
        }
        return json_body(answer)

    return idempotent(principal, disable)


def get_integration_webhook_keys(principal: Caller, integration_id: str, webhook_id: str) -> Json:
    """The public keys a webhook's deliveries are signed with, current first."""
    keys = _service(principal).key_set(integration_id, webhook_id)
    return json_body(
        {
            "keys": [
                {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": key.public_key,
                    "kid": key.key_id,
                    "use": "sig",
                    "status": "current" if key.expires_at is None else "previous",
                    "expires_at": dto.stamp(key.expires_at),
                }
                for key in keys
            ]
        }
    )
