"""What an API tells the delivery engine: its subscriptions, and how its deliveries look."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from core.outbox import Event
from core.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Target:
    """Where one subscription's deliveries go now, and the secret they are signed with."""

    subscription_id: str
    url: str
    secret: str = field(repr=False)


@dataclass(frozen=True)
class Message:
    """One delivery as the engine hands it to the API to be written: the event, unchanged
    across attempts, and the moment of this attempt."""

    event_id: str
    event_type: str
    occurred_at: datetime
    payload: Mapping[str, Any]
    sent_at: datetime
    attempt: int


@dataclass(frozen=True)
class WebhookRequest:
    """The exact bytes to POST, and the headers (signatures included) to send with them."""

    body: bytes
    headers: Mapping[str, str]


class Registry(Protocol):
    """One API's webhooks. `targets` and `target` read its subscriptions in the unit given."""

    api: str

    def targets(self, unit: UnitOfWork, event: Event) -> Sequence[Target]:
        """The subscriptions `event` goes to (when the outbox relay hands it over). They may
        depend on the event's tenant and type only: in a batch, they are asked once for each."""

    def target(self, unit: UnitOfWork, subscription_id: str) -> Target | None:
        """Where a subscription points now; None once it is deleted or disabled."""

    def gone(self, unit: UnitOfWork, subscription_id: str) -> None:
        """The receiver answered 410 Gone: disable the subscription."""

    def request(self, message: Message, target: Target) -> WebhookRequest:
        """The body and headers of one attempt of `message` to `target`, signed."""
