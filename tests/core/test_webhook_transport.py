"""One delivery's POST, against a real HTTPS receiver: kept-alive connections, no redirects,
an excerpt of the answer, certificates checked."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from core.webhooks import WebhookSettings, check_url
from core.webhooks.transport import SendError, Transport
from tests.webhook_receiver import Receiver

LOCAL = (ipaddress.ip_network("127.0.0.1/32"),)
BODY = b'{"event":"test"}'


@pytest.fixture
def transport(tls: tuple[Path, Path, Path]) -> Transport:
    return Transport(WebhookSettings(allowed_networks=LOCAL, ca_file=tls[0], total_timeout=2.0, connect_timeout=1.0))


def post(transport: Transport, receiver: Receiver, path: str) -> tuple[int, str | None]:
    answer = transport.post(check_url(receiver.url(path), transport.settings), BODY, {"X-Test": "1"})
    return answer.status, answer.excerpt


def test_requests_to_one_receiver_share_a_connection(transport: Transport, receiver: Receiver) -> None:
    for _ in range(3):
        assert post(transport, receiver, "/kept")[0] == 200

    received = receiver.at("/kept")
    assert len({request.peer_port for request in received}) == 1
    assert received[0].body == BODY
    assert received[0].headers["host"] == f"127.0.0.1:{receiver.port}"
    assert received[0].headers["x-test"] == "1"


def test_a_redirect_is_an_answer_not_followed(transport: Transport, receiver: Receiver) -> None:
    receiver.behave("/moved", status=307)

    assert post(transport, receiver, "/moved")[0] == 307
    assert len(receiver.at("/moved")) == 1


def test_only_an_excerpt_of_a_long_answer_is_read_and_its_connection_dropped(
    transport: Transport, receiver: Receiver
) -> None:
    receiver.behave("/long", padding=100_000)

    status, excerpt = post(transport, receiver, "/long")
    post(transport, receiver, "/long")

    assert status == 200
    assert excerpt is not None
    assert len(excerpt) == transport.settings.excerpt_bytes
    assert excerpt.startswith('{"received": true')
    assert len({request.peer_port for request in receiver.at("/long")}) == 2


def test_a_receiver_too_slow_is_a_timeout(transport: Transport, receiver: Receiver) -> None:
    receiver.behave("/slow", delay=3.0)

    with pytest.raises(SendError) as raised:
        post(transport, receiver, "/slow")

    assert raised.value.timed_out


def test_a_certificate_not_trusted_is_refused(receiver: Receiver) -> None:
    untrusting = Transport(WebhookSettings(allowed_networks=LOCAL))

    with pytest.raises(SendError) as raised:
        post(untrusting, receiver, "/any")

    assert "certificate" in str(raised.value).lower()
    assert not raised.value.timed_out
    assert receiver.at("/any") == []
