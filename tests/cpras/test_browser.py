"""The Print Orders area in a real browser: headless Chromium (Debian's, driven by Playwright)
against the app served by uvicorn, handing off to the fake PrintPLANR over real HTTP.

`test_pages.py` checks the pages' HTTP; only a browser proves the rest: that the forms are
usable by their labels from the keyboard, that the session cookie (Secure, SameSite=Lax, on
`http://localhost`, which Chromium treats as secure) survives the round trip through another
origin, that the pages work under their own Content-Security-Policy, and that the whole
journey (sign in, filter, hand off, PrintPLANR consumes the code, come back) holds together.
Screenshots of each step land in `build/screenshots/`.

Without Playwright or `/usr/bin/chromium` the tests skip, unless `REQUIRE_BROWSER=1` (CI),
where they fail instead.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest
import uvicorn

from core.api import registered
from core.config import Settings
from core.factory import create_app
from models.cpras.demo import DEMO_BUYER_OPERATOR, DEMO_CLIENT_ID, demo_client_secret, demo_operator_password
from tests.cpras.conftest import handing_off_settings
from tests.fake_printplanr import FakePrintplanr

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Response

CHROMIUM = Path("/usr/bin/chromium")
AREA = "/cpras/print-orders"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
WHY = "browser tests need Playwright and Debian's chromium at /usr/bin/chromium"


def no_browser(detail: str) -> NoReturn:
    """Skip, or fail where the browser tests must run (`REQUIRE_BROWSER=1`)."""
    message = f"{WHY} ({detail})"
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as missing:
        no_browser(f"cannot import Playwright: {missing}")
    if not CHROMIUM.is_file():
        no_browser(f"{CHROMIUM} is missing")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def origin(database: Settings, printplanr: FakePrintplanr) -> Iterator[str]:
    """The app served by uvicorn on a free port, handing off to the fake PrintPLANR; its origin.

    The cookie stays Secure, as in production: Chromium sends it to `http://localhost`.
    """
    with socket.socket() as probe:  # a free port, so that CPRAS knows its own address
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    served = f"http://localhost:{port}"
    app = create_app(handing_off_settings(database, printplanr, public_url=served), registered())
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start in 10 s"
        time.sleep(0.02)
    printplanr.cpras_origin = served
    printplanr.client_id, printplanr.client_secret = DEMO_CLIENT_ID, demo_client_secret()
    try:
        yield served
    finally:
        server.should_exit = True
        thread.join(10)
        assert not thread.is_alive(), "uvicorn did not stop"


@pytest.fixture
def page(chromium: Browser, origin: str) -> Iterator[Page]:
    context = chromium.new_context(base_url=origin, viewport={"width": 1100, "height": 800})
    context.set_default_timeout(5_000)
    page = context.new_page()
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        # A page answered with an error status is logged too: the tests check those themselves.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    def response(answer: Response) -> None:
        if answer.request.resource_type != "document" and answer.status >= 400 and "/favicon.ico" not in answer.url:
            problems.append(f"{answer.status} {answer.url}")

    page.on("console", console)
    page.on("response", response)
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert problems == []  # no CSP violation, no stylesheet missing, no script error


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def sign_in(page: Page, password: str) -> None:
    """Sign in from the keyboard, finding the fields by their labels."""
    page.goto(AREA)
    page.wait_for_url(f"**{AREA}/login")
    page.get_by_label("User name").focus()
    page.keyboard.type(DEMO_BUYER_OPERATOR)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(password)
    page.keyboard.press("Enter")


def test_a_buyer_signs_in_filters_hands_off_to_printplanr_and_comes_back(
    page: Page, origin: str, printplanr: FakePrintplanr
) -> None:
    from playwright.sync_api import expect

    page.goto(f"{AREA}/login")
    expect(page).to_have_title("Sign in · CPRAS")
    screenshot(page, "01-login")
    sign_in(page, demo_operator_password(DEMO_BUYER_OPERATOR))
    page.wait_for_url(f"{origin}{AREA}")
    [cookie] = page.context.cookies()
    assert (cookie["name"], cookie["path"]) == ("cpras_print_orders", AREA)
    assert (cookie["secure"], cookie["httpOnly"], cookie["sameSite"]) == (True, True, "Lax")

    expect(page.get_by_text(f"Signed in as {DEMO_BUYER_OPERATOR}")).to_be_visible()
    table = page.get_by_role("table")
    expect(table.get_by_role("caption")).to_contain_text("print orders, latest update first")
    expect(table.get_by_role("cell", name="pp_order_551", exact=True)).to_be_visible()
    statuses = table.locator("tbody td:nth-child(2)")
    assert len(set(statuses.all_inner_texts())) > 1
    screenshot(page, "02-orders")

    pages = page.get_by_role("navigation", name="Pages")
    expect(pages).to_contain_text("Page 1 of 2")  # the demo buyer's 24 orders, 20 a page
    pages.get_by_role("link", name="Next").click()
    expect(pages).to_contain_text("Page 2 of 2")
    expect(table.get_by_role("cell", name="pp_order_574", exact=True)).to_be_visible()
    pages.get_by_role("link", name="Previous").click()
    expect(pages).to_contain_text("Page 1 of 2")

    page.get_by_label("Status").select_option("completed")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"[?&]status=completed\b"))
    expect(table.get_by_role("caption")).to_contain_text("with status completed")
    shown = statuses.all_inner_texts()
    assert len(shown) >= 1
    assert set(shown) == {"completed"}
    expect(page.get_by_label("Status")).to_have_value("completed")
    screenshot(page, "03-filtered")

    expect(pages).to_contain_text("Page 1 of 1")  # 8 of the demo buyer's orders are completed

    page.get_by_label("Project and lot").select_option("proj_wdc_2025|lot_1")
    page.get_by_role("button", name="Order print in PrintPLANR").click()
    page.wait_for_url(f"{printplanr.base_url}/session/**")
    expect(page.get_by_text("Ordering for project proj_wdc_2025, lot lot_1.")).to_be_visible()
    [(status, consumed)] = printplanr.consumed
    assert status == 200, consumed
    assert (consumed["project_id"], consumed["lot_id"]) == ("proj_wdc_2025", "lot_1")
    screenshot(page, "04-printplanr")

    page.get_by_role("link", name="Back to CPRAS").click()
    page.wait_for_url(f"{origin}{AREA}")
    expect(page.get_by_role("status")).to_have_text("Welcome back from PrintPLANR (project proj_wdc_2025, lot lot_1).")
    screenshot(page, "05-back-with-notice")
    page.reload()  # the notice is shown once
    expect(page.get_by_role("status")).to_have_count(0)


def test_a_wrong_password_shows_the_error_and_stays_on_the_login_page(page: Page, origin: str) -> None:
    from playwright.sync_api import expect

    sign_in(page, "not-the-password")
    expect(page.get_by_role("alert")).to_have_text("Wrong user name or password.")
    assert page.url == f"{origin}{AREA}/login"
    expect(page.get_by_label("User name")).to_have_value(DEMO_BUYER_OPERATOR)
    expect(page.get_by_label("Password")).to_have_value("")
    screenshot(page, "06-wrong-password")
    page.goto(AREA)  # signed in nobody
    page.wait_for_url(f"{origin}{AREA}/login")
