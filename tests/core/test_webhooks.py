"""The webhook engine against a real HTTPS receiver: fan-out, signatures, retries, 410, slow
receivers, and the addresses it refuses. The subscriptions are a registry of the test's own."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import itertools
import json
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update

from core.columns import aware, utcnow
from core.config import Settings
from core.database import Database
from core.jobs import JobContext
from core.outbox import Event
from core.unit_of_work import UnitOfWork
from core.webhooks import (
    Sender,
    Target,
    UnsafeAddressError,
    WebhookAttempt,
    WebhookDelivery,
    WebhookRequest,
    WebhookSettings,
    check_url,
    fan_out,
    redeliver,
    retention_job,
)
from core.webhooks.registry import Message
from core.webhooks.signing import Ed25519Signer, HmacSigner, standard_webhooks
from tests.webhook_receiver import Receiver

LOCAL = (ipaddress.ip_network("127.0.0.1/32"),)


@dataclass
class Registry:
    """Subscriptions kept in memory: the test's stand-in for an API's table of them."""

    api: str = field(default_factory=lambda: f"test-{uuid.uuid4().hex[:8]}")
    subscriptions: dict[str, Target] = field(default_factory=dict)
    disabled: list[str] = field(default_factory=list)

    def subscribe(self, url: str) -> Target:
        target = Target(f"sub-{len(self.subscriptions) + 1}", url, "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        self.subscriptions[target.subscription_id] = target
        return target

    def targets(self, unit: UnitOfWork, event: Event) -> Sequence[Target]:
        return list(self.subscriptions.values())

    def target(self, unit: UnitOfWork, subscription_id: str) -> Target | None:
        return None if subscription_id in self.disabled else self.subscriptions.get(subscription_id)

    def gone(self, unit: UnitOfWork, subscription_id: str) -> None:
        self.disabled.append(subscription_id)

    def request(self, message: Message, target: Target) -> WebhookRequest:
        body = json.dumps(
            {"id": message.event_id, "event": message.event_type, "payload": dict(message.payload)},
            separators=(",", ":"),
        ).encode()
        signature = hmac.new(target.secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "X-Test-Signature": f"sha256={signature}",
            **standard_webhooks(message.event_id, message.sent_at, body, HmacSigner(target.secret)),
        }
        return WebhookRequest(body, headers)


@pytest.fixture
def context(database: Settings) -> Iterator[JobContext]:
    db = Database(database.database_url)
    yield JobContext(db, database)
    db.dispose()


def webhook_settings(tls: tuple[Path, Path, Path], **changes: Any) -> WebhookSettings:
    quick = WebhookSettings(
        connect_timeout=1.0,
        total_timeout=2.0,
        schedule=(0.2, 0.2, 0.2),
        jitter=0.0,
        ca_file=tls[0],
        allowed_networks=LOCAL,
    )
    return replace(quick, **changes)


@pytest.fixture
def sending() -> Iterator[Any]:
    """Makes senders, and closes them (their threads and kept-alive connections) at the end."""
    made: list[Sender] = []

    def make(registry: Registry, settings: WebhookSettings) -> Sender:
        made.append(Sender(registry, settings))
        return made[-1]

    yield make
    for sender in made:
        sender.close()


def publish(context: JobContext, registry: Registry, kind: str = "thing.happened", **payload: Any) -> Event:
    """An event handed to the fan-out, as the outbox relay would hand it."""
    event = Event(str(uuid.uuid4()), registry.api, kind, None, payload, utcnow())
    with context.unit() as unit:
        fan_out(lambda _unit: registry)(unit, event)
        unit.commit()
    return event


def run_until_settled(sender: Sender, context: JobContext, seconds: float = 10.0) -> None:
    """Run the delivery job until nothing is due, in flight or to write back."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sender.run(context)
        with context.unit() as unit:
            pending = unit.session.scalar(
                select(WebhookDelivery.id).where(WebhookDelivery.api == sender.api, WebhookDelivery.status == "pending")
            )
        if pending is None:
            sender.drain(context)
            return
        time.sleep(0.02)
    raise AssertionError("deliveries still pending")


def deliveries(context: JobContext, registry: Registry) -> list[WebhookDelivery]:
    with context.unit() as unit:
        rows = unit.session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.api == registry.api).order_by(WebhookDelivery.id)
        ).all()
        unit.session.expunge_all()
        return list(rows)


def attempts(context: JobContext, delivery_id: int) -> list[WebhookAttempt]:
    with context.unit() as unit:
        rows = unit.session.scalars(
            select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id).order_by(WebhookAttempt.id)
        ).all()
        unit.session.expunge_all()
        return list(rows)


def test_an_event_is_fanned_out_once_per_subscription_however_often_it_is_handled(context: JobContext) -> None:
    registry = Registry()
    registry.subscribe("https://a.example/hook")
    registry.subscribe("https://b.example/hook")
    event = publish(context, registry)

    with context.unit() as unit:
        fan_out(lambda _unit: registry)(unit, event)
        unit.commit()

    assert sorted(row.subscription_id for row in deliveries(context, registry)) == ["sub-1", "sub-2"]


def test_a_delivery_arrives_signed_and_is_logged(
    context: JobContext, receiver: Receiver, tls: tuple[Path, Path, Path], sending: Any
) -> None:
    registry = Registry()
    target = registry.subscribe(receiver.url("/ok"))
    event = publish(context, registry, orderId="po_1")
    sender = sending(registry, webhook_settings(tls))

    run_until_settled(sender, context)

    (received,) = receiver.wait_for("/ok", 1)
    assert received.json() == {"id": event.id, "event": "thing.happened", "payload": {"orderId": "po_1"}}
    expected = hmac.new(target.secret.encode(), received.body, hashlib.sha256).hexdigest()
    assert received.headers["x-test-signature"] == f"sha256={expected}"
    assert received.headers["webhook-id"] == event.id
    assert received.headers["host"] == f"127.0.0.1:{receiver.port}"
    (delivery,) = deliveries(context, registry)
    assert (delivery.status, delivery.attempts, delivery.last_status) == ("delivered", 1, 200)
    (attempt,) = attempts(context, delivery.id)
    assert (attempt.status_code, attempt.error) == (200, None)
    assert attempt.response_excerpt == '{"received": true, "status": 200}'


def test_failures_are_retried_on_the_schedule_then_marked_failed_and_can_be_redelivered(
    context: JobContext, receiver: Receiver, tls: tuple[Path, Path, Path], sending: Any
) -> None:
    registry = Registry()
    registry.subscribe(receiver.url("/flaky"))
    receiver.behave("/flaky", failures=10, failure_status=500)
    publish(context, registry)
    sender = sending(registry, webhook_settings(tls))

    run_until_settled(sender, context)

    (delivery,) = deliveries(context, registry)
    tried = attempts(context, delivery.id)
    assert (delivery.status, delivery.attempts, len(tried)) == ("failed", 4, 4)
    gaps = [(later.attempted_at - earlier.attempted_at).total_seconds() for earlier, later in itertools.pairwise(tried)]
    assert all(0.18 <= gap < 1.5 for gap in gaps), gaps
    assert [attempt.status_code for attempt in tried] == [500] * 4

    receiver.behave("/flaky", status=200)
    with context.unit() as unit:
        assert redeliver(unit, registry.api, [delivery.id]) == 1
        unit.commit()
    run_until_settled(sender, context)
    assert deliveries(context, registry)[0].status == "delivered"


def test_redeliver_leaves_a_delivery_that_is_not_failed_alone(context: JobContext) -> None:
    registry = Registry()
    registry.subscribe("https://127.0.0.1:9/hook")
    publish(context, registry)
    (delivery,) = deliveries(context, registry)

    with context.unit() as unit:
        assert redeliver(unit, registry.api, [delivery.id]) == 0  # pending: perhaps being sent right now
        unit.commit()


def test_an_outcome_does_not_overwrite_what_another_worker_wrote_meanwhile(
    context: JobContext, receiver: Receiver, tls: tuple[Path, Path, Path], sending: Any
) -> None:
    registry = Registry()
    registry.subscribe(receiver.url("/late"))
    receiver.behave("/late", delay=1.0, status=500)
    publish(context, registry)
    sender = sending(registry, webhook_settings(tls))

    sender.run(context)  # claimed, and being sent
    (delivery,) = deliveries(context, registry)
    with context.unit() as unit:  # its lease ran out, and another worker delivered it
        unit.connection.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == delivery.id).values(status="delivered", attempts=1)
        )
        unit.commit()
    sender.drain(context)

    (after,) = deliveries(context, registry)
    assert (after.status, after.attempts) == ("delivered", 1)
    assert [attempt.status_code for attempt in attempts(context, delivery.id)] == [500]  # still logged


def test_a_delivery_whose_lease_ran_short_is_given_back_unsent(
    context: JobContext, receiver: Receiver, tls: tuple[Path, Path, Path], sending: Any
) -> None:
    registry = Registry()
    registry.subscribe(receiver.url("/short"))
    publish(context, registry)
    sender = sending(registry, webhook_settings(tls))
    sender.lease = timedelta(seconds=1)  # shorter than one attempt may take

    sender.run(context)
    sender.drain(context)

    assert receiver.at("/short") == []
    (delivery,) = deliveries(context, registry)
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert delivery.next_attempt_at is not None
    assert aware(delivery.next_attempt_at) <= utcnow()  # due again at once, for any worker
    assert attempts(context, delivery.id) == []


def test_outcomes_that_could_not_be_written_are_written_next_time(
    context: JobContext, receiver: Receiver, tls: tuple[Path, Path, Path], sending: Any, monkeypatch: Any
) -> None:
    registry = Registry()
    registry.subscribe(receiver.url("/ok"))
    publish(context, registry)
    sender = sending(registry, webhook_settings(tls))
    sender.run(context)
    receiver.wait_for("/ok", 1)
    time.sleep(0.2)
    record = sender._record
    monkeypatch.setattr(sender, "_record", lambda *_: (_ for _ in ()).throw(ConnectionError("database away")))

    with pytest.raises(ConnectionError):
        sender.run(context)
    monkeypatch.setattr(sender, "_record", record)
    sender.drain(context)

    (delivery,) = deliveries(context, registry)
    assert (delivery.status, delivery.attempts) == ("delivered", 1)


def test_sent_deliveries_are_forgotten_after_their_retention_and_failed_ones_kept(
    context: JobContext, receiver: Receiver, tls: tuple[Path, Path, Path], sending: Any
) -> None:
    registry = Registry()
    registry.subscribe(receiver.url("/kept"))
    receiver.behave("/kept", failures=1, failure_status=500)
    for _ in range(3):
        publish(context, registry)
    sender = sending(registry, webhook_settings(tls, schedule=()))  # one attempt: the first fails for good
    run_until_settled(sender, context)
    statuses = sorted(delivery.status for delivery in deliveries(context, registry))
    assert statuses == ["delivered", "delivered", "failed"]
    with context.unit() as unit:  # all of them sent a month ago
        unit.connection.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.api == registry.api)
            .values(created_at=utcnow() - timedelta(days=30))
        )
        unit.commit()

    job = retention_job(registry.api, timedelta(days=7))
    while job.run(context):
        pass

    (kept,) = deliveries(context, registry)
    assert kept.status == "failed"
    assert len(attempts(context, kept.id)) == 1


def test_a_receiver_that_answers_500_a_few_times_then_200_is_delivered(
    context: JobContext, receiver: Receiver, tls: tuple[Path, Path, Path], sending: Any
) -> None:
    registry = Registry()
    registry.subscribe(receiver.url("/recovering"))
    receiver.behave("/recovering", failures=2, failure_status=503)
    publish(context, registry)
    sender = sending(registry, webhook_settings(tls))

    run_until_settled(sender, context)

    (delivery,) = deliveries(context, registry)
    assert [attempt.status_code for attempt in attempts(context, delivery.id)] == [503, 503, 200]
    assert delivery.status == "delivered"


def test_410_disables_the_subscription(
    context: JobContext, receiver: Receiver, tls: tuple[Path, Path, Path], sending: Any
) -> None:
    registry = Registry()
    registry.subscribe(receiver.url("/gone"))
    receiver.behave("/gone", status=410)
    publish(context, registry)
    sender = sending(registry, webhook_settings(tls))

    run_until_settled(sender, context)
    publish(context, registry)
    run_until_settled(sender, context)

    assert registry.disabled == ["sub-1"]
    assert [row.status for row in deliveries(context, registry)] == ["cancelled", "cancelled"]
    assert len(receiver.at("/gone")) == 1  # the second event was not sent to a disabled subscription


def test_a_slow_receiver_does_not_delay_the_others(
    context: JobContext, receiver: Receiver, tls: tuple[Path, Path, Path], sending: Any
) -> None:
    registry = Registry()
    registry.subscribe(receiver.url("/slow"))
    registry.subscribe(receiver.url("/fast"))
    receiver.behave("/slow", delay=6.0)
    sender = sending(registry, webhook_settings(tls, total_timeout=9.0))
    started = time.monotonic()
    for index in range(20):
        publish(context, registry, n=index)

    deadline = time.monotonic() + 10
    while len(receiver.at("/fast")) < 20 and time.monotonic() < deadline:
        sender.run(context)
        time.sleep(0.01)

    assert len(receiver.at("/fast")) == 20
    assert time.monotonic() - started < 5.0  # well before the first slow answer
    sender.drain(context)


def test_a_timeout_is_an_attempt_that_failed(
    context: JobContext, receiver: Receiver, tls: tuple[Path, Path, Path], sending: Any
) -> None:
    registry = Registry()
    registry.subscribe(receiver.url("/stuck"))
    receiver.behave("/stuck", delay=3.0)
    publish(context, registry)
    sender = sending(registry, webhook_settings(tls, total_timeout=1.5, schedule=()))

    run_until_settled(sender, context)

    (delivery,) = deliveries(context, registry)
    (attempt,) = attempts(context, delivery.id)
    assert delivery.status == "failed"
    assert attempt.status_code is None
    assert attempt.error is not None
    assert attempt.error.startswith("timeout")


def test_an_address_refused_at_delivery_time_is_a_failed_attempt(
    context: JobContext, receiver: Receiver, tls: tuple[Path, Path, Path], sending: Any
) -> None:
    """The name may resolve elsewhere by the time a delivery is sent (DNS rebinding)."""
    registry = Registry()
    registry.subscribe(receiver.url("/rebound"))
    publish(context, registry)
    sender = sending(registry, webhook_settings(tls, allowed_networks=(), schedule=()))

    run_until_settled(sender, context)

    (delivery,) = deliveries(context, registry)
    (attempt,) = attempts(context, delivery.id)
    assert delivery.status == "failed"
    assert attempt.error == "refused: The host 127.0.0.1 resolves to an address that is not public (127.0.0.1)."
    assert receiver.at("/rebound") == []


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.0.0.5/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://[fd00:ec2::254]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[64:ff9b::a9fe:a9fe]/latest/meta-data/",
        "https://[2002:a9fe:a9fe::]/hook",
        "https://[::7f00:1]/hook",
        "https://[::ffff:0:7f00:1]/hook",
        "https://[fec0::1]/hook",
        "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook",
        "https://0.0.0.0/hook",
        "https://100.64.0.1/hook",
        "http://93.184.215.14/hook",
        "ftp://93.184.215.14/hook",
        "https://user:secret@93.184.215.14/hook",
        "not a url",
    ],
)
def test_urls_to_private_places_are_refused(url: str) -> None:
    with pytest.raises(UnsafeAddressError):
        check_url(url, WebhookSettings())


def test_a_public_address_is_checked_and_kept() -> None:
    destination = check_url("https://93.184.215.14:8443/hooks/in?x=1", WebhookSettings())

    assert destination.url == "https://93.184.215.14:8443/hooks/in?x=1"
    assert destination.host_header == "93.184.215.14:8443"


def test_an_ipv6_literal_keeps_its_brackets_in_host() -> None:
    destination = check_url("https://[2606:4700:4700::1111]:8443/hook", WebhookSettings())

    assert destination.host_header == "[2606:4700:4700::1111]:8443"


def test_allowed_addresses_may_use_http() -> None:
    destination = check_url("http://127.0.0.1:9000/hook", WebhookSettings(allowed_networks=LOCAL))

    assert destination.url == "http://127.0.0.1:9000/hook"


def test_signatures_follow_standard_webhooks() -> None:
    """The example of the Standard Webhooks specification, signed the same."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    sent_at = datetime_from(1614265330)
    body = b'{"test": 2432232314}'

    headers = standard_webhooks("msg_p5jXN8AQM9LWM0D4loKWxJek", sent_at, body, HmacSigner(secret))

    assert headers == {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }


def test_an_ed25519_signature_verifies_with_the_public_key_only() -> None:
    key = Ed25519PrivateKey.generate()
    sent_at = datetime_from(1614265330)
    body = b'{"test": 2432232314}'

    headers = standard_webhooks("msg_1", sent_at, body, Ed25519Signer("whk_test0001", key))

    version, signature = headers["webhook-signature"].split(",", 1)
    assert version == "v1a"
    key.public_key().verify(base64.b64decode(signature), b"msg_1.1614265330." + body)  # raises if not
    with pytest.raises(InvalidSignature):
        key.public_key().verify(base64.b64decode(signature), b"msg_1.1614265331." + body)


def test_a_rotated_secret_and_its_successor_both_sign() -> None:
    old, new = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_" + base64.b64encode(b"n" * 24).decode()
    sent_at = datetime_from(1614265330)
    body = b'{"test": 2432232314}'

    headers = standard_webhooks("msg_p5jXN8AQM9LWM0D4loKWxJek", sent_at, body, HmacSigner(new), HmacSigner(old))

    first, second = headers["webhook-signature"].split(" ")
    assert second == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert first == HmacSigner(new).sign(b"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330." + body)


def datetime_from(timestamp: int) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, UTC)
