"""Mihwar's webhooks: subscriptions, and how its deliveries are written and signed.

The sending itself is the core engine's (core/webhooks). A delivery is the spec's
`WebhookDeliveryEnvelope` (`event`, `payload`, `sentAt`) plus the event's `id` and
`occurredAt`, which stay the same across attempts. Its exact bytes are signed twice:

- `X-Mihwar-Signature: sha256=<hex>`, HMAC-SHA256 keyed with the UTF-8 bytes of the
  subscription secret, as the source document gives it;
- the Standard Webhooks headers (`webhook-id` = the event id, `webhook-timestamp`,
  `webhook-signature: v1,<base64>`), keyed with the base64 after `whsec_` in the secret,
  so receivers can use the Standard Webhooks libraries, drop duplicates and refuse replays.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.cursors import CursorCodec, page, timestamp
from core.outbox import Event
from core.problems import Conflict, NotFound, ValidationFailed
from core.unit_of_work import UnitOfWork
from core.webhooks import Target, UnsafeAddressError, WebhookRequest, WebhookSettings, check_url
from core.webhooks.registry import Message
from core.webhooks.signing import HmacSigner, hmac_sha256_hex, standard_webhooks
from models.mihwar.accounts import SignedIn
from models.mihwar.events import API_NAME, EVENT_TYPES, moment
from models.mihwar.listing import Page
from models.mihwar.repositories import Subscriptions
from models.mihwar.tables import WebhookSubscription

USER_AGENT = "Mihwar-Webhooks/1.0"
MAX_SUBSCRIPTIONS = 100  # per organization: their list is one unpaged answer
GONE_REASON = "The receiver answered 410 Gone."


def new_secret() -> str:
    """A signing secret in the Standard Webhooks form: `whsec_` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


@dataclass(frozen=True)
class NewSubscription:
    subscription: WebhookSubscription
    secret: str


class SubscriptionService:
    def __init__(self, unit: UnitOfWork, settings: WebhookSettings) -> None:
        self.subscriptions = Subscriptions(unit)
        self.settings = settings

    def create(self, user: SignedIn, url: str, events: Sequence[str] | None) -> NewSubscription:
        """Subscribe `url` to `events` (all when None); refused if it leads to a non-public address."""
        try:
            check_url(url, self.settings)
        except UnsafeAddressError as exc:
            raise ValidationFailed("The URL cannot receive webhooks.", errors={"url": [str(exc)]}) from None
        if self.subscriptions.count(user.organization_id) >= MAX_SUBSCRIPTIONS:
            raise Conflict(f"An organization has at most {MAX_SUBSCRIPTIONS} webhook subscriptions; delete one first.")
        secret = new_secret()
        chosen = [kind for kind in EVENT_TYPES if kind in set(events)] if events is not None else None
        subscription = WebhookSubscription(organization_id=user.organization_id, url=url, secret=secret, events=chosen)
        return NewSubscription(self.subscriptions.add(subscription), secret)

    def list(self, user: SignedIn) -> Sequence[WebhookSubscription]:
        return self.subscriptions.of(user.organization_id)

    def get(self, user: SignedIn, subscription_id: str) -> WebhookSubscription:
        subscription = self.subscriptions.get(user.organization_id, subscription_id)
        if subscription is None:
            raise NotFound("Webhook subscription not found.")
        return subscription

    def delete(self, user: SignedIn, subscription_id: str) -> None:
        """Delete a subscription; its deliveries not sent yet are dropped."""
        self.subscriptions.remove(self.get(user, subscription_id))

    def attempts(
        self, user: SignedIn, subscription_id: str, limit: int, cursor: str | None, codec: CursorCodec
    ) -> Page[Any]:
        """The subscription's delivery attempts, newest first."""
        self.get(user, subscription_id)
        scope = json.dumps(["attempts", user.organization_id, subscription_id])
        key = None
        if cursor is not None:
            moment_, row_id = codec.decode(scope, cursor, length=2)
            key = [timestamp(moment_), row_id]
        rows = self.subscriptions.attempts(subscription_id, key, limit)
        shown, more = page(rows, limit)
        return Page(shown, codec.encode(scope, [shown[-1].attempted_at, shown[-1].id]) if more else None)


class MihwarWebhooks:
    """The core engine's registry for Mihwar (core/webhooks/registry.py)."""

    api = API_NAME

    def targets(self, unit: UnitOfWork, event: Event) -> Sequence[Target]:
        if event.tenant is None:
            return []
        return [
            Target(row.id, row.url, row.secret)
            for row in Subscriptions(unit).active_for(event.tenant)
            if row.events is None or event.type in row.events
        ]

    def target(self, unit: UnitOfWork, subscription_id: str) -> Target | None:
        row = Subscriptions(unit).active(subscription_id)
        return None if row is None else Target(row.id, row.url, row.secret)

    def gone(self, unit: UnitOfWork, subscription_id: str) -> None:
        Subscriptions(unit).disable(subscription_id, GONE_REASON)

    def request(self, message: Message, target: Target) -> WebhookRequest:
        envelope = {
            "event": message.event_type,
            "payload": dict(message.payload),
            "sentAt": moment(message.sent_at),
            "id": message.event_id,
            "occurredAt": moment(message.occurred_at),
        }
        body = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {
            "User-Agent": USER_AGENT,
            "X-Mihwar-Event": message.event_type,
            "X-Mihwar-Signature": "sha256=" + hmac_sha256_hex(target.secret, body),
            **standard_webhooks(message.event_id, message.sent_at, body, HmacSigner(target.secret)),
        }
        return WebhookRequest(body, headers)
