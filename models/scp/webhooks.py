"""Webhook subscriptions of an integration, their Ed25519 signing keys, and how deliveries
are written and signed for the core engine (core/webhooks).

A webhook signs with its current key; after a rotation the previous key signs too, for a
24-hour overlap, so a receiver that has not fetched the new public key yet still verifies.
Keys are published as a JWKS-style set (`GET …/keys`). Signatures follow Standard Webhooks'
asymmetric scheme over `<event id>.<timestamp>.<body>`: in SCP's own headers
(`X-SCP-Signature: v1a=…`, `X-SCP-Key-Id`) and in the standard ones, so receivers may use
its libraries. A disabled webhook, or one outside its window, gets nothing from then on,
queued deliveries included; a webhook disabled because its integration was archived still
gets the events of that archiving.
"""

from __future__ import annotations

import base64
import json
import secrets
import string
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from core.columns import aware, rfc3339, utcnow
from core.outbox import Event
from core.problems import NotFound, Unprocessable
from core.unit_of_work import UnitOfWork
from core.webhooks import Ed25519Signer, Target, UnsafeAddressError, WebhookRequest, WebhookSettings, check_url
from core.webhooks.registry import Message
from core.webhooks.signing import standard_webhooks
from models.scp import lifecycle, problems
from models.scp.access import Caller
from models.scp.events import API_NAME
from models.scp.integrations import ARCHIVED_WITH_INTEGRATION, check_window, scope_of
from models.scp.repositories import Integrations, TenantScope, WebhookKeys, Webhooks
from models.scp.tables import Integration, Webhook, WebhookKey

ACTIVE, DISABLED = "active", "disabled"
OVERLAP = timedelta(hours=24)
USER_AGENT = "SCP-Webhooks/1.0"
_ALPHABET = string.ascii_letters + string.digits


def new_key(webhook_id: str, now: datetime) -> WebhookKey:
    private = Ed25519PrivateKey.generate()
    raw_public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return WebhookKey(
        key_id="whk_" + "".join(secrets.choice(_ALPHABET) for _ in range(16)),
        webhook_id=webhook_id,
        private_key=base64.b64encode(private.private_bytes_raw()).decode(),
        public_key=base64.urlsafe_b64encode(raw_public).rstrip(b"=").decode(),
        created_at=now,
        expires_at=None,
    )


def signing_keys(keys: Sequence[WebhookKey], now: datetime) -> list[WebhookKey]:
    """The current key first, then the previous one while its overlap lasts."""
    return [key for key in keys if key.expires_at is None or aware(key.expires_at) > now]


@dataclass(frozen=True)
class Rotated:
    webhook: Webhook
    previous: WebhookKey


class WebhookService:
    def __init__(self, unit: UnitOfWork, caller: Caller, settings: WebhookSettings) -> None:
        self.unit = unit
        self.caller = caller
        self.settings = settings
        self.scope = scope_of(unit, caller)
        self.webhooks = Webhooks(unit, self.scope)
        self.keys = WebhookKeys(unit)

    def page(self, integration_id: str, status: str | None, page: int, limit: int) -> tuple[list[Any], int]:
        self._integration(integration_id)
        return self.webhooks.matching(integration_id, status, page, limit)

    def create(self, integration_id: str, body: Mapping[str, Any]) -> Webhook:
        """Subscribe a URL to the integration's events, with its first signing key."""
        integration = self._integration(integration_id, lock=True)
        if integration.status == lifecycle.ARCHIVED:
            raise problems.invalid_transition(f"Integration {integration_id} is archived; it takes no new webhook.")
        now = utcnow()
        check_window(body["active_from"], body.get("active_until"), now)
        self._check_url(body["target_url"])
        webhook_id = str(uuid.uuid4())
        key = new_key(webhook_id, now)
        webhook = Webhook(
            webhook_id=webhook_id,
            tenant_id=integration.tenant_id,
            integration_id=integration_id,
            target_url=body["target_url"],
            event_types=sorted(set(body["event_types"])),
            status=ACTIVE,
            active_from=body["active_from"],
            active_until=body.get("active_until"),
            public_key_id=key.key_id,
            created_at=now,
            updated_at=now,
        )
        self.webhooks.add(webhook)
        self.keys.add(key)
        return webhook

    def update(self, integration_id: str, webhook_id: str, changes: Mapping[str, Any]) -> Webhook:
        webhook = self._active(integration_id, webhook_id)
        now = utcnow()
        if "target_url" in changes:
            self._check_url(changes["target_url"])
            webhook.target_url = changes["target_url"]
        if "event_types" in changes:
            webhook.event_types = sorted(set(changes["event_types"]))
        if "active_until" in changes:
            end = changes["active_until"]
            if end is not None and (aware(end) <= aware(webhook.active_from) or aware(end) <= now):
                raise problems.invalid_window(
                    f"active_until {aware(end).isoformat()} is not later than the webhook's active_from, or is past."
                )
            webhook.active_until = end
        webhook.updated_at = now
        self.unit.session.flush()
        return webhook

    def rotate(self, integration_id: str, webhook_id: str) -> Rotated:
        """A new current key; the one before keeps signing and verifying for the overlap, and
        an older one still in its overlap ends now."""
        webhook = self._active(integration_id, webhook_id)
        now = utcnow()
        keys = self.keys.of(webhook_id)
        current = next(key for key in keys if key.expires_at is None)
        self.keys.forget([key for key in keys if key.expires_at is not None])
        current.expires_at = now + OVERLAP
        fresh = new_key(webhook_id, now)
        self.keys.add(fresh)
        webhook.public_key_id, webhook.secret_rotated_at, webhook.updated_at = fresh.key_id, now, now
        self.unit.session.flush()
        return Rotated(webhook, current)

    def disable(self, integration_id: str, webhook_id: str, body: Mapping[str, Any]) -> Webhook:
        """Stop every delivery at once, queued ones too, and discard the keys."""
        webhook = self._active(integration_id, webhook_id)
        now = utcnow()
        webhook.status, webhook.disabled_at, webhook.updated_at = DISABLED, now, now
        webhook.disable_reason_code, webhook.disable_reason_text = body["reason_code"], body.get("reason_text")
        self.keys.forget(self.keys.of(webhook_id))
        return webhook

    def key_set(self, integration_id: str, webhook_id: str) -> list[WebhookKey]:
        webhook = self._webhook(integration_id, webhook_id)
        if webhook.status != ACTIVE:
            return []  # a disabled webhook signs nothing more
        return signing_keys(self.keys.of(webhook.webhook_id), utcnow())

    def _check_url(self, url: str) -> None:
        try:
            check_url(url, self.settings)
        except UnsafeAddressError as refused:
            raise Unprocessable(
                f"target_url cannot receive webhooks: {refused}",
                errors={"body.target_url": [str(refused)]},
                extensions={"type": problems.PREFIX + "target-not-allowed"},
            ) from None

    def _integration(self, integration_id: str, *, lock: bool = False) -> Integration:
        return Integrations(self.unit, self.scope).found(integration_id, lock=lock)

    def _webhook(self, integration_id: str, webhook_id: str, *, lock: bool = False) -> Webhook:
        webhook = self.webhooks.of(integration_id, webhook_id, lock=lock)
        if webhook is None:
            raise NotFound(f"Webhook {webhook_id} of integration {integration_id} was not found.")
        return webhook

    def _active(self, integration_id: str, webhook_id: str) -> Webhook:
        webhook = self._webhook(integration_id, webhook_id, lock=True)
        if webhook.status != ACTIVE:
            raise problems.invalid_transition(f"Webhook {webhook_id} is disabled; a disabled webhook cannot change.")
        return webhook


# The core engine's registry -------------------------------------------------------------------


def _live(webhook: Webhook, now: datetime, occurred_at: datetime | None = None) -> bool:
    """Whether the webhook receives now: active within its window, or disabled by its
    integration's archiving and the event older than that."""
    within = aware(webhook.active_from) <= now and (webhook.active_until is None or aware(webhook.active_until) > now)
    if webhook.status == ACTIVE:
        return within
    archived = webhook.disable_reason_code == ARCHIVED_WITH_INTEGRATION and webhook.disabled_at is not None
    if not archived:
        return False
    if occurred_at is None:  # at send time: its last events go out within their retries
        return aware(webhook.disabled_at) > now - OVERLAP  # type: ignore[arg-type]
    return aware(occurred_at) <= aware(webhook.disabled_at)  # type: ignore[arg-type]


class ScpWebhooks:
    """What the core engine asks of SCP's webhooks (core/webhooks/registry.py)."""

    api = API_NAME

    def _target(self, unit: UnitOfWork, webhook: Webhook) -> Target | None:
        now = utcnow()
        keys = [
            key
            for key in WebhookKeys(unit).of(webhook.webhook_id)
            if key.expires_at is None or aware(key.expires_at) > now
        ]
        if not keys:
            return None
        material = json.dumps([[key.key_id, key.private_key] for key in keys])
        return Target(webhook.webhook_id, webhook.target_url, material)

    def targets(self, unit: UnitOfWork, event: Event) -> Sequence[Target]:
        if event.tenant is None:
            return []
        now = utcnow()
        webhooks = Webhooks(unit, _any_tenant(unit, event.tenant)).of_integration(event.tenant)
        found = [
            self._target(unit, w) for w in webhooks if event.type in w.event_types and _live(w, now, event.occurred_at)
        ]
        return [target for target in found if target is not None]

    def target(self, unit: UnitOfWork, subscription_id: str) -> Target | None:
        webhook = unit.session.get(Webhook, subscription_id)
        if webhook is None or not _live(webhook, utcnow()):
            return None
        return self._target(unit, webhook)

    def gone(self, unit: UnitOfWork, subscription_id: str) -> None:
        webhook = unit.session.get(Webhook, subscription_id)
        if webhook is not None and webhook.status == ACTIVE:
            webhook.status, webhook.disabled_at = DISABLED, utcnow()
            webhook.disable_reason_code, webhook.disable_reason_text = "OTHER", "The receiver answered 410 Gone."
            WebhookKeys(unit).forget(WebhookKeys(unit).of(subscription_id))

    def request(self, message: Message, target: Target) -> WebhookRequest:
        envelope = {
            "event_id": message.event_id,
            "event_type": message.event_type,
            "occurred_at": rfc3339(message.occurred_at),
            "webhook_id": target.subscription_id,
            **dict(message.payload),
        }
        body = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()
        signers = [
            Ed25519Signer(key_id, Ed25519PrivateKey.from_private_bytes(base64.b64decode(private)))
            for key_id, private in json.loads(target.secret)
        ]
        standard = standard_webhooks(message.event_id, message.sent_at, body, *signers)
        headers = {
            "User-Agent": USER_AGENT,
            "Content-Type": "application/json",
            "X-SCP-Signature": " ".join(
                part.replace("v1a,", "v1a=", 1) for part in standard["webhook-signature"].split()
            ),
            "X-SCP-Timestamp": standard["webhook-timestamp"],
            "X-SCP-Key-Id": " ".join(str(signer.key_id) for signer in signers),
            "X-SCP-Event-Type": message.event_type,
            "X-SCP-Event-Id": message.event_id,
            "X-SCP-Webhook-Id": target.subscription_id,
            **standard,
        }
        return WebhookRequest(body, headers)


def _any_tenant(unit: UnitOfWork, integration_id: str) -> TenantScope:
    """The scope of the integration an event is about (the engine acts for no caller)."""
    integration = unit.session.get(Integration, integration_id)
    return TenantScope(integration.tenant_id if integration else None, integration_id)
