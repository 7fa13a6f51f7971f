"""CPRAS's client of PrintPLANR against a fake PrintPLANR on 127.0.0.1: what it sends, retries
with back-off on 5xx and timeouts only, and only PrintPLANR's own session URLs believed."""

from __future__ import annotations

import dataclasses
import socket
import time

import pytest

from core.config import Settings
from handlers.cpras.api import API
from models.cpras.printplanr import HandoffsOffError, PrintplanrClient, PrintplanrError
from tests.cpras.conftest import handing_off_settings
from tests.fake_printplanr import FakePrintplanr

PAYLOAD = {
    "buyer": {"id": "buyer_101", "org_name": "Warwick District Council", "email": "user@wdc.gov.uk"},
    "context": {"project_id": "proj_wdc_2025", "lot_id": "lot_1", "supplier_ids": ["sup_123"], "mode": "order"},
    "pricing_policy": {"display": "as_is"},
    "redirect": {"return_url": "https://cpras.test/cpras/print-orders/return?state=abc"},
}


def client_for(database: Settings, printplanr: FakePrintplanr, **changes: object) -> PrintplanrClient:
    return PrintplanrClient.of(API.config(handing_off_settings(database, printplanr, **changes)))


def test_a_hand_off_is_posted_as_printplanr_expects(database: Settings, printplanr: FakePrintplanr) -> None:
    url = client_for(database, printplanr).hand_off("buyer", PAYLOAD, "h-1")
    assert url == f"{printplanr.base_url}/session/1"
    [sent] = printplanr.handoffs()
    assert sent.problems == []
    assert sent.headers["idempotency-key"] == "h-1"
    assert sent.headers["content-type"] == "application/json"


def test_a_5xx_is_retried_with_the_same_idempotency_key(database: Settings, printplanr: FakePrintplanr) -> None:
    printplanr.failures = 2
    started = time.monotonic()
    url = client_for(database, printplanr, printplanr_retries=2).hand_off("buyer", PAYLOAD, "h-2")
    assert url == f"{printplanr.base_url}/session/3"
    assert [sent.headers["idempotency-key"] for sent in printplanr.handoffs()] == ["h-2"] * 3
    assert time.monotonic() - started >= 0.25  # it backed off between attempts


def test_a_timeout_is_retried(database: Settings, printplanr: FakePrintplanr) -> None:
    printplanr.failures, printplanr.failure_status, printplanr.delay = 1, 0, 1.5
    client = client_for(database, printplanr, printplanr_retries=1, printplanr_timeout=0.5)
    assert client.hand_off("buyer", PAYLOAD, "h-3") == f"{printplanr.base_url}/session/2"


def test_a_4xx_is_not_retried(database: Settings, printplanr: FakePrintplanr) -> None:
    printplanr.failures, printplanr.failure_status = 5, 409
    with pytest.raises(PrintplanrError, match=r"refused the hand-off \(HTTP 409\)"):
        client_for(database, printplanr, printplanr_retries=3).hand_off("buyer", PAYLOAD, "h-4")
    assert len(printplanr.handoffs()) == 1


def test_giving_up_after_the_retries(database: Settings, printplanr: FakePrintplanr) -> None:
    printplanr.failures = 10
    with pytest.raises(PrintplanrError, match=r"HTTP 503"):
        client_for(database, printplanr, printplanr_retries=2).hand_off("buyer", PAYLOAD, "h-5")
    assert len(printplanr.handoffs()) == 3


@pytest.mark.parametrize(
    "session_url",
    [
        "https://evil.example/session",
        "javascript:alert(1)",
        "//evil.example/session",
        "http://127.0.0.1:1/a b",
        "http://user@127.0.0.1/x",
        None,
    ],
)
def test_only_printplanrs_own_session_urls_are_believed(
    database: Settings, printplanr: FakePrintplanr, session_url: str | None
) -> None:
    printplanr.session_url = session_url
    if session_url is None:
        printplanr.session_url = "http://127.0.0.1:1/x\t"
    with pytest.raises(PrintplanrError, match="session_url"):
        client_for(database, printplanr).hand_off("buyer", PAYLOAD, "h-6")


def test_another_session_host_can_be_allowed(database: Settings, printplanr: FakePrintplanr) -> None:
    printplanr.session_url = "http://app.printplanr.test/s/1"
    client = client_for(database, printplanr, printplanr_session_hosts=("app.printplanr.test",))
    assert client.hand_off("buyer", PAYLOAD, "h-7") == "http://app.printplanr.test/s/1"


def test_no_base_url_means_hand_offs_are_off(database: Settings) -> None:
    cpras = dataclasses.replace(API.config(database), printplanr_base_url=None)
    with pytest.raises(HandoffsOffError, match="PRINTPLANR_BASE_URL is not set"):
        PrintplanrClient.of(cpras)


def test_a_refused_connection_is_not_retried(database: Settings, printplanr: FakePrintplanr) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    cpras = dataclasses.replace(
        API.config(handing_off_settings(database, printplanr, printplanr_retries=3)),
        printplanr_base_url=f"http://127.0.0.1:{closed}",
    )
    started = time.monotonic()
    with pytest.raises(PrintplanrError, match="could not be reached"):
        PrintplanrClient.of(cpras).hand_off("buyer", PAYLOAD, "h-8")
    assert time.monotonic() - started < 0.25  # no back-off: one attempt
