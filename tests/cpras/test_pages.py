"""The Print Orders area through a browser's eyes (HTTP only): sign-in, the orders listed with
their filter and pages, the hand-off that redirects to PrintPLANR with a one-time code, and
the return accepted once, only in the session that started it. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from core.api import registered
from core.columns import utcnow
from core.config import Settings
from core.database import Database
from core.factory import create_app
from core.unit_of_work import UnitOfWork
from models.cpras.demo import DEMO_BUYER_OPERATOR, DEMO_SUPPLIER_OPERATOR, demo_operator_password
from models.cpras.operators import Operators
from models.cpras.settings import CprasSettings
from models.cpras.tables import Handoff
from tests.cpras.conftest import handing_off_settings
from tests.fake_printplanr import FakePrintplanr

AREA = "/cpras/print-orders"


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def sign_in(client: TestClient, username: str = DEMO_BUYER_OPERATOR, password: str | None = None) -> Any:
    form = client.get(f"{AREA}/login")
    password = demo_operator_password(username) if password is None else password
    return client.post(
        f"{AREA}/login",
        data={"csrf": csrf_of(form.text), "username": username, "password": password},
        follow_redirects=False,
    )


def hand_off(client: TestClient, choice: str | None = "proj_wdc_2025|lot_1") -> Any:
    page = client.get(AREA)
    data = {"csrf": csrf_of(page.text)}
    if choice:
        data["choice"] = choice
    return client.post(f"{AREA}/handoffs", data=data, follow_redirects=False)


def test_the_orders_need_a_signed_in_operator(browser: TestClient) -> None:
    answer = browser.get(AREA, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{AREA}/login"


def test_a_wrong_password_or_a_missing_csrf_token_signs_nobody_in(browser: TestClient) -> None:
    wrong = sign_in(browser, password="not-the-password")
    assert wrong.status_code == 401
    assert "Wrong user name or password." in wrong.text
    no_token = browser.post(
        f"{AREA}/login",
        data={"username": DEMO_BUYER_OPERATOR, "password": demo_operator_password(DEMO_BUYER_OPERATOR)},
    )
    assert no_token.status_code == 403
    assert browser.get(AREA, follow_redirects=False).status_code == 303


def test_a_buyer_sees_their_orders_filtered_and_paged(browser: TestClient) -> None:
    assert sign_in(browser).status_code == 303
    page = browser.get(AREA)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "pp_order_551" in page.text
    assert "Acme Print Ltd" in page.text
    completed = browser.get(AREA, params={"status": "completed"})
    rows = re.findall(r'<span class="status status-([a-z_]+)">', completed.text)
    assert rows
    assert set(rows) == {"completed"}
    assert "Page 1 of 2" in page.text
    assert "pp_order_574" not in page.text  # the oldest, on page 2
    second = browser.get(AREA, params={"page": "2"})
    assert "pp_order_574" in second.text
    assert "pp_order_551" not in second.text
    past_the_end = browser.get(AREA, params={"page": "999"})
    assert "Page 2 of 2" in past_the_end.text


def test_a_cookie_is_secure_http_only_and_lax(browser: TestClient) -> None:
    answer = sign_in(browser)
    cookie = answer.headers["set-cookie"].lower()
    for attribute in ("httponly", "samesite=lax", "secure"):
        assert attribute in cookie
    assert "path=/cpras/print-orders" in cookie


def test_a_buyer_hand_off_redirects_to_printplanr_with_a_code(browser: TestClient, printplanr: FakePrintplanr) -> None:
    sign_in(browser)
    answer = hand_off(browser)
    assert answer.status_code == 303, answer.text
    target = urlsplit(answer.headers["location"])
    assert f"{target.scheme}://{target.netloc}" == printplanr.base_url
    code = parse_qs(target.query)["code"][0]
    assert len(code) >= 43  # 256 bits, URL-safe base64
    [sent] = printplanr.handoffs()
    assert sent.problems == []  # the payload is a BuyerHandoff, with the key and an Idempotency-Key
    assert sent.path == "/v1/handoffs/buyer"
    assert sent.payload["buyer"] == {
        "id": "buyer_101",
        "org_name": "Warwick District Council",
        "email": "user@wdc.gov.uk",
    }
    assert sent.payload["context"] == {
        "project_id": "proj_wdc_2025",
        "lot_id": "lot_1",
        "supplier_ids": ["sup_123", "sup_456"],
        "mode": "order",
    }
    return_url = urlsplit(sent.payload["redirect"]["return_url"])
    assert (return_url.scheme, return_url.netloc, return_url.path) == ("https", "cpras.test", f"{AREA}/return")
    assert len(parse_qs(return_url.query)["state"][0]) >= 43


def test_a_supplier_hand_off_sends_the_supplier_and_its_lots(browser: TestClient, printplanr: FakePrintplanr) -> None:
    sign_in(browser, DEMO_SUPPLIER_OPERATOR)
    answer = hand_off(browser, choice=None)
    assert answer.status_code == 303, answer.text
    [sent] = printplanr.handoffs()
    assert sent.problems == []
    assert sent.path == "/v1/handoffs/supplier"
    assert sent.payload["supplier"]["user_name"] == DEMO_SUPPLIER_OPERATOR
    assert [lot["lot_code"] for lot in sent.payload["contracted_lots"]] == ["LOT1", "LOT2"]


def test_a_buyer_cannot_hand_off_into_a_project_not_theirs(browser: TestClient, printplanr: FakePrintplanr) -> None:
    sign_in(browser)
    answer = hand_off(browser, choice="proj_other|lot_1")
    assert answer.status_code == 400
    assert printplanr.handoffs() == []


def test_a_hand_off_needs_the_sessions_csrf_token(browser: TestClient, printplanr: FakePrintplanr) -> None:
    sign_in(browser)
    answer = browser.post(f"{AREA}/handoffs", data={"choice": "proj_wdc_2025|lot_1", "csrf": "forged"})
    assert answer.status_code == 403
    assert printplanr.handoffs() == []


def state_of(printplanr: FakePrintplanr) -> str:
    return str(parse_qs(urlsplit(printplanr.handoffs()[-1].payload["redirect"]["return_url"]).query)["state"][0])


def test_the_return_is_accepted_once_in_the_session_that_started_it(
    browser: TestClient, printplanr: FakePrintplanr
) -> None:
    sign_in(browser)
    hand_off(browser)
    state = state_of(printplanr)
    back = browser.get(f"{AREA}/return", params={"state": state}, follow_redirects=False)
    assert back.status_code == 303
    assert back.headers["location"] == AREA
    assert "Welcome back from PrintPLANR (project proj_wdc_2025, lot lot_1)." in browser.get(AREA).text
    again = browser.get(f"{AREA}/return", params={"state": state})
    assert again.status_code == 403


def test_a_return_in_another_session_is_refused_no_login_csrf(
    database: Settings, browser: TestClient, printplanr: FakePrintplanr
) -> None:
    sign_in(browser)
    hand_off(browser)
    state = state_of(printplanr)
    app = create_app(handing_off_settings(database, printplanr), registered())
    with TestClient(app, base_url="https://cpras.test") as victim:
        assert victim.get(f"{AREA}/return", params={"state": state}).status_code == 403  # not signed in
        sign_in(victim)  # the same operator, in another browser: still not the session that started it
        assert victim.get(f"{AREA}/return", params={"state": state}).status_code == 403
    # The hand-off is still there for its own session.
    assert browser.get(f"{AREA}/return", params={"state": state}, follow_redirects=False).status_code == 303


def test_hand_offs_off_say_so(client: TestClient) -> None:
    with TestClient(client.app, base_url="https://cpras.test") as off:
        sign_in(off)
        page = off.get(AREA)
        assert "Hand-offs to PrintPLANR are off: PRINTPLANR_BASE_URL is not set." in page.text
        answer = off.post(f"{AREA}/handoffs", data={"csrf": csrf_of(page.text), "choice": "proj_wdc_2025|lot_1"})
        assert answer.status_code == 503
        assert "PRINTPLANR_BASE_URL is not set" in answer.text


@pytest.mark.parametrize("status", [400, 503])
def test_printplanr_failing_shows_a_clear_error(database: Settings, printplanr: FakePrintplanr, status: int) -> None:
    printplanr.failures, printplanr.failure_status = 10, status
    app = create_app(handing_off_settings(database, printplanr, printplanr_retries=1), registered())
    with TestClient(app, base_url="https://cpras.test") as client:
        sign_in(client)
        answer = hand_off(client)
    assert answer.status_code == 502
    assert f"PrintPLANR refused the hand-off (HTTP {status})." in answer.text
    assert len(printplanr.handoffs()) == (1 if status == 400 else 2)  # a 4xx is not retried


def test_a_failed_hand_off_mints_no_code_and_cannot_be_returned_from(
    browser: TestClient, printplanr: FakePrintplanr, cpras_db: Database, database: Settings
) -> None:
    printplanr.failures = 10
    sign_in(browser)
    assert hand_off(browser).status_code == 502
    state = state_of(printplanr)
    with UnitOfWork(cpras_db, database) as unit:
        handoff = unit.session.scalars(select(Handoff).where(Handoff.state == state)).one()
        assert handoff.code_hash is None
    assert browser.get(f"{AREA}/return", params={"state": state}).status_code == 403


def test_a_return_too_late_is_refused(database: Settings, printplanr: FakePrintplanr, cpras_db: Database) -> None:
    app = create_app(handing_off_settings(database, printplanr, handoff_return_lifetime=1), registered())
    with TestClient(app, base_url="https://cpras.test") as client:
        sign_in(client)
        hand_off(client)
        state = state_of(printplanr)
        with UnitOfWork(cpras_db, database) as unit:  # the user took longer than allowed at PrintPLANR
            handoff = unit.session.scalars(select(Handoff).where(Handoff.state == state)).one()
            handoff.created_at = utcnow() - timedelta(seconds=5)
            unit.commit()
        assert client.get(f"{AREA}/return", params={"state": state}).status_code == 403


def test_signing_out_ends_the_session_even_a_copied_cookie(browser: TestClient) -> None:
    sign_in(browser)
    copied = dict(browser.cookies)
    page = browser.get(AREA)
    browser.post(f"{AREA}/logout", data={"csrf": csrf_of(page.text)})
    assert browser.get(AREA, follow_redirects=False).status_code == 303
    with TestClient(browser.app, base_url="https://cpras.test", cookies=copied) as replay:
        assert replay.get(AREA, follow_redirects=False).status_code == 303


def test_a_supplier_hand_off_names_the_signed_in_user(
    browser: TestClient, printplanr: FakePrintplanr, cpras_db: Database, database: Settings
) -> None:
    username = f"acme.{uuid.uuid4().hex[:6]}"
    with UnitOfWork(cpras_db, database) as unit:
        password = Operators(unit).create(username, supplier_id="sup_123")
        unit.commit()
    sign_in(browser, username, password)
    assert hand_off(browser, choice=None).status_code == 303
    assert printplanr.handoffs()[-1].payload["supplier"]["user_name"] == username


def test_a_form_too_large_is_refused(browser: TestClient) -> None:
    answer = browser.post(f"{AREA}/login", data={"csrf": "x", "username": "u", "password": "p" * 10_000})
    assert answer.status_code == 413


def test_hand_offs_need_the_client_and_cpras_address() -> None:
    with pytest.raises(ValueError, match="PRINTPLANR_CLIENT_ID"):
        CprasSettings(printplanr_base_url="https://api.printplanr.test", public_url="https://cpras.test")
    with pytest.raises(ValueError, match="CPRAS_PUBLIC_URL"):
        CprasSettings(printplanr_base_url="https://api.printplanr.test", printplanr_client_id="printplanr")
