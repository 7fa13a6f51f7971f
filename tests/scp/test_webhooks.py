"""Webhooks of an integration: subscribed, updated, rotated and disabled through the API; the
events of its lifecycle, contracts and exchanges written to the outbox with their change;
each delivery signed with Ed25519 by the current key, and by the previous one during its
24-hour overlap, and verified here with the published key set."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select, update

from core.columns import aware, utcnow
from core.outbox import Event, OutboxEvent
from core.unit_of_work import UnitOfWork
from core.webhooks.registry import Message
from models.scp.tables import WebhookKey
from models.scp.webhooks import ScpWebhooks
from tests.scp.conftest import INTEGRATIONS, Scp, problem

RECEIVER = "https://93.184.216.34/scp/events"  # a public address: nothing to resolve
EVENTS = ["integration.suspended", "integration.activated", "integration.archived", "contract.activated"]


class Subscribed:
    def __init__(self, scp: Scp, **changes: Any) -> None:
        self.scp = scp
        self.tenant = scp.new_tenant()
        self.admin, self.governor = f"{self.tenant}-admin", f"{self.tenant}-governor"
        self.integration_id = scp.walked_to("active", self.tenant)
        body = {"target_url": RECEIVER, "event_types": EVENTS, "active_from": "2026-01-01T00:00:00Z", **changes}
        answer = scp.call(self.admin, "POST", f"{self.base}/webhooks", body)
        assert answer.status_code == 201, answer.text
        self.created = answer.json()
        self.webhook_id = self.created["webhook_id"]

    @property
    def base(self) -> str:
        return f"{INTEGRATIONS}/{self.integration_id}"

    @property
    def path(self) -> str:
        return f"{self.base}/webhooks/{self.webhook_id}"

    def key_set(self) -> list[dict[str, Any]]:
        answer = self.scp.call(self.admin, "GET", f"{self.path}/keys")
        assert answer.status_code == 200, answer.text
        return list(answer.json()["keys"])

    def events(self) -> list[OutboxEvent]:
        with UnitOfWork(self.scp.db, self.scp.settings) as unit:
            query = select(OutboxEvent).where(OutboxEvent.api == "scp", OutboxEvent.tenant == self.integration_id)
            events = list(unit.session.scalars(query.order_by(OutboxEvent.id)))
            for event in events:
                unit.session.expunge(event)
            return events

    def delivery(
        self, kind: str = "integration.suspended", occurred_at: datetime | None = None
    ) -> tuple[bytes, dict[str, str]] | None:
        """What the engine would send now for an event of the integration, if anything."""
        registry = ScpWebhooks()
        event = Event(
            "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b",
            "scp",
            kind,
            None,
            {"status": "suspended"},
            occurred_at or utcnow(),
            self.integration_id,
        )
        with UnitOfWork(self.scp.db, self.scp.settings) as unit:
            targets = registry.targets(unit, event)
            target = registry.target(unit, self.webhook_id)
        if not targets or target is None:
            return None
        message = Message(event.id, kind, event.occurred_at, event.payload, utcnow(), 1)
        request = registry.request(message, target)
        return request.body, dict(request.headers)


def verified_by(keys: list[dict[str, Any]], body: bytes, headers: dict[str, str]) -> list[str]:
    """The ids of the published keys whose signature on the delivery checks out."""
    signed = f"{headers['X-SCP-Event-Id']}.{headers['X-SCP-Timestamp']}.".encode() + body
    signatures = [part.removeprefix("v1a=") for part in headers["X-SCP-Signature"].split()]
    good = []
    for key in keys:
        public = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(key["x"] + "="))
        for signature in signatures:
            try:
                public.verify(base64.b64decode(signature), signed)
            except InvalidSignature:
                continue
            good.append(key["kid"])
    return good


@pytest.fixture
def subscribed(scp: Scp) -> Subscribed:
    return Subscribed(scp)


def test_a_subscription_signs_with_its_published_key(subscribed: Subscribed) -> None:
    assert subscribed.created["status"] == "active"
    (key,) = subscribed.key_set()
    assert (key["kid"], key["status"], key["kty"], key["crv"]) == (
        subscribed.created["public_key_id"],
        "current",
        "OKP",
        "Ed25519",
    )
    delivered = subscribed.delivery()
    assert delivered is not None
    body, headers = delivered
    assert verified_by([key], body, headers) == [key["kid"]]
    assert headers["X-SCP-Key-Id"] == key["kid"]
    assert headers["webhook-signature"].startswith("v1a,")
    assert headers["webhook-id"] == headers["X-SCP-Event-Id"]
    envelope = json.loads(body)
    assert (envelope["webhook_id"], envelope["event_type"]) == (subscribed.webhook_id, "integration.suspended")
    listed = subscribed.scp.call(subscribed.admin, "GET", f"{subscribed.base}/webhooks").json()
    assert [item["webhook_id"] for item in listed["items"]] == [subscribed.webhook_id]
    assert '"secret"' not in json.dumps(listed)


def test_a_rotation_signs_with_both_keys_for_the_overlap_then_the_new_one(subscribed: Subscribed) -> None:
    old = subscribed.created["public_key_id"]
    rotated = subscribed.scp.call(
        subscribed.admin, "POST", f"{subscribed.path}/rotate-secret", {"reason_code": "PERSONNEL_CHANGE"}
    )
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["public_key_id"]
    assert rotated.json()["previous_public_key_id"] == old
    assert new != old
    keys = subscribed.key_set()
    assert [(key["kid"], key["status"]) for key in keys] == [(new, "current"), (old, "previous")]
    delivered = subscribed.delivery()
    assert delivered is not None
    body, headers = delivered
    assert headers["X-SCP-Key-Id"] == f"{new} {old}"
    assert sorted(verified_by(keys, body, headers)) == sorted([new, old])
    assert verified_by([keys[1]], body, headers) == [old], "a receiver still holding the old key verifies"

    with UnitOfWork(subscribed.scp.db, subscribed.scp.settings) as unit:  # the overlap ends
        unit.connection.execute(
            update(WebhookKey).where(WebhookKey.key_id == old).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        unit.commit()
    assert [key["kid"] for key in subscribed.key_set()] == [new]
    delivered = subscribed.delivery()
    assert delivered is not None
    body, headers = delivered
    assert headers["X-SCP-Key-Id"] == new
    assert verified_by(keys, body, headers) == [new]


def test_disabling_stops_deliveries_at_once(subscribed: Subscribed) -> None:
    disabled = subscribed.scp.call(
        subscribed.admin, "POST", f"{subscribed.path}/disable", {"reason_code": "NO_LONGER_NEEDED"}
    )
    assert (disabled.status_code, disabled.json()["status"]) == (200, "disabled")
    assert subscribed.delivery() is None
    assert subscribed.key_set() == []
    problem(
        subscribed.scp.call(subscribed.admin, "PATCH", subscribed.path, {"event_types": EVENTS}),
        409,
        "urn:scp:problem:invalid-status-transition",
    )


def test_outside_its_window_a_webhook_gets_nothing(scp: Scp) -> None:
    later = Subscribed(scp, active_from="2098-01-01T00:00:00Z")
    assert later.delivery() is None


def test_an_unsafe_target_is_refused(scp: Scp) -> None:
    subscribed = Subscribed(scp)
    body = {"target_url": "https://127.0.0.1/hook", "event_types": EVENTS, "active_from": "2026-01-01T00:00:00Z"}
    error = problem(
        scp.call(subscribed.admin, "POST", f"{subscribed.base}/webhooks", body),
        422,
        "urn:scp:problem:target-not-allowed",
    )
    assert error["errors"][0]["field"] == "body.target_url"


def test_changes_publish_their_events_with_them(subscribed: Subscribed) -> None:
    scp = subscribed.scp
    assert scp.move(subscribed.governor, subscribed.integration_id, "suspend").status_code == 200
    assert scp.move(subscribed.governor, subscribed.integration_id, "activate", None).status_code == 200
    refused = scp.move(subscribed.governor, subscribed.integration_id, "approve")
    assert refused.status_code == 409
    kinds = [event.type for event in subscribed.events()]
    assert kinds[-2:] == ["integration.suspended", "integration.activated"], "a refused move publishes nothing"
    suspended = subscribed.events()[-2].payload
    assert (suspended["previous_status"], suspended["status"], suspended["reason_code"]) == (
        "active",
        "suspended",
        "MISCONFIGURATION",
    )


def test_archiving_disables_the_webhooks_after_their_last_events(subscribed: Subscribed) -> None:
    before = utcnow()
    assert subscribed.scp.move(subscribed.governor, subscribed.integration_id, "archive").status_code == 200
    listed = subscribed.scp.call(subscribed.admin, "GET", f"{subscribed.base}/webhooks").json()
    assert [item["status"] for item in listed["items"]] == ["disabled"]
    (archived,) = [event for event in subscribed.events() if event.type == "integration.archived"]
    assert aware(archived.occurred_at) >= before
    delivered = subscribed.delivery("integration.archived", archived.occurred_at)
    assert delivered is not None, "its archiving itself is still delivered"
    assert subscribed.delivery("integration.archived") is None, "nothing that happens after it"
    problem(
        subscribed.scp.call(
            subscribed.admin,
            "POST",
            f"{subscribed.base}/webhooks",
            {"target_url": RECEIVER, "event_types": EVENTS, "active_from": "2026-01-01T00:00:00Z"},
        ),
        409,
        "urn:scp:problem:invalid-status-transition",
    )
