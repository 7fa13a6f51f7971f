"""The Print Orders area: server-rendered pages under `/cpras/print-orders`, outside the spec.

An operator signs in (`/login`), sees the print orders PrintPLANR's webhooks reported (their
own buyer's or supplier's, or all), filters them by status and pages through them, and
starts a hand-off (`POST /handoffs`), which redirects to PrintPLANR's session for them
with a one-time code. PrintPLANR sends them back to `/return?state=…`, accepted once and
only in the browser session that started the hand-off.

Plain HTML forms, read only up to `FORM_LIMIT` bytes: every POST carries the session's
CSRF token; the session is a signed cookie (SameSite=Lax, HttpOnly), checked against the
operator on every request, so signing out ends it everywhere. Password checks, database
work and the call to PrintPLANR run in threads, never on the event loop.
"""

from __future__ import annotations

import functools
import hmac
import logging
import math
import secrets
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import anyio.to_thread
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from core.api import Mounted
from core.auth_failures import FailureCounter
from core.unit_of_work import UnitOfWork
from handlers.cpras.context import PREFIX
from models.cpras.handoffs import RETURN_PATH, Handoffs, return_path
from models.cpras.operators import Operators
from models.cpras.printplanr import HandoffsOffError, PrintplanrClient, PrintplanrError
from models.cpras.procurement import Procurement
from models.cpras.settings import CprasSettings
from models.cpras.tables import Operator, PrintOrder, Supplier

PATH = "/print-orders"
PAGE_SIZE = 20
FORM_LIMIT = 8 * 1024  # bytes: the largest form here is a sign-in
HERE = Path(__file__).parent
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
_templates = Environment(loader=FileSystemLoader(HERE), autoescape=select_autoescape(["html"]), auto_reload=False)
log = logging.getLogger(__name__)
T = TypeVar("T")


async def in_thread(function: Callable[[], T]) -> T:
    return await anyio.to_thread.run_sync(function)


class PrintOrdersPages:
    def __init__(self, mounted: Mounted[CprasSettings]) -> None:
        self.mounted = mounted
        self.cpras = mounted.config
        settings = mounted.settings
        self.failures = FailureCounter(
            rate=self.cpras.auth_failure_rate,
            storage_uri=settings.redis_url or "memory://",
            namespace="cpras-operator-failures",
            enabled=self.cpras.rate_limits_enabled and settings.rate_limits_enabled,
        )

    def unit(self) -> UnitOfWork:
        return UnitOfWork(self.mounted.database, self.mounted.settings)

    # The app ------------------------------------------------------------------------------

    def app(self) -> Starlette:
        routes = [
            Route("/", self.orders, methods=["GET"]),
            Route("/style.css", self.style, methods=["GET"]),
            Route("/login", self.login_form, methods=["GET"]),
            Route("/login", self.login, methods=["POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/handoffs", self.hand_off, methods=["POST"]),
            Route(RETURN_PATH.removeprefix(PATH), self.come_back, methods=["GET"]),
        ]
        session = Middleware(
            SessionMiddleware,
            secret_key=self.cpras.session_secret,
            session_cookie="cpras_print_orders",
            max_age=8 * 3600,
            path=PREFIX + PATH,
            same_site="lax",
            https_only=self.cpras.secure_cookies,
        )
        return Starlette(routes=routes, middleware=[session])

    # Pages --------------------------------------------------------------------------------

    def render(self, request: Request, template: str, code: int = 200, **values: Any) -> HTMLResponse:
        session = request.session
        values.setdefault("operator", None)
        values.setdefault("notice", session.pop("notice", None))
        html = _templates.get_template(template).render(root=PREFIX + PATH, csrf=_csrf(request), **values)
        return HTMLResponse(html, code, headers=HEADERS)

    def message(self, request: Request, status: int, heading: str, error: str) -> HTMLResponse:
        return self.render(request, "message.html", status, heading=heading, error=error)

    async def style(self, request: Request) -> Response:
        css = await in_thread(lambda: (HERE / "style.css").read_text())
        return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    async def login_form(self, request: Request) -> Response:
        return self.render(request, "login.html", username="")

    async def login(self, request: Request) -> Response:
        form = await _form(request)
        if form is None:
            return self.message(request, 413, "Sign in again", "The form is too large.")
        if not _csrf_ok(request, form.get("csrf")):
            return self.message(request, 403, "Sign in again", "The form expired; please sign in again.")
        username, password = str(form.get("username") or "")[:128], str(form.get("password") or "")[:256]
        address = request.client.host if request.client else "unknown"

        def check() -> int | bool:
            """Whether the credentials are right; or, if this address failed too often, when to retry."""
            if (quota := self.failures.exhausted(address)) is not None:
                return quota.retry_after
            with self.unit() as unit:
                if Operators(unit).signed_in(username, password) is not None:
                    return True
            self.failures.count(address)
            return False

        outcome = await in_thread(check)
        if outcome is not True:
            if outcome is False:
                error, status = "Wrong user name or password.", 401
            else:
                error, status = f"Too many failed sign-ins; try again in {outcome} seconds.", 429
            return self.render(request, "login.html", status, username=username, error=error)
        request.session.clear()  # a new session on sign-in: nothing chosen before it carries over
        request.session.update(
            user=username, since=time.time(), sid=secrets.token_urlsafe(32), csrf=secrets.token_urlsafe(32)
        )
        return RedirectResponse(PREFIX + PATH, 303)

    async def logout(self, request: Request) -> Response:
        form = await _form(request)
        username = request.session.get("user")
        if form is not None and username and _csrf_ok(request, form.get("csrf")):

            def sign_out() -> None:
                with self.unit() as unit:
                    Operators(unit).sign_out(username)
                    unit.commit()

            await in_thread(sign_out)
            request.session.clear()
        return RedirectResponse(PREFIX + PATH + "/login", 303)

    async def orders(self, request: Request) -> Response:
        username, since = request.session.get("user"), _since(request)
        if not username:
            return RedirectResponse(PREFIX + PATH + "/login", 303)
        status = request.query_params.get("status") or None
        try:
            page = max(1, int(request.query_params.get("page") or 1))
        except ValueError:
            page = 1

        def read() -> dict[str, Any] | None:
            with self.unit() as unit:
                operator = Operators(unit).of_session(username, since)
                if operator is None:
                    return None
                return {"operator": operator, **self._listing(unit, operator, status, page)}

        found = await in_thread(read)
        if found is None:
            request.session.clear()
            return RedirectResponse(PREFIX + PATH + "/login", 303)

        def page_url(number: int) -> str:
            query = {"status": status, "page": str(number)} if status else {"page": str(number)}
            return f"{PREFIX}{PATH}?{urlencode(query)}"

        handoffs_off = None if self.cpras.printplanr_base_url else str(HandoffsOffError())
        return self.render(
            request, "orders.html", chosen_status=status, page_url=page_url, handoffs_off=handoffs_off, **found
        )

    def _listing(self, unit: UnitOfWork, operator: Operator, status: str | None, page: int) -> dict[str, Any]:
        mine = []
        if operator.buyer_id:
            mine.append(PrintOrder.buyer_id == operator.buyer_id)
        if operator.supplier_id:
            mine.append(PrintOrder.supplier_id == operator.supplier_id)
        session = unit.session
        statuses = session.scalars(select(PrintOrder.status).where(*mine).distinct().order_by(PrintOrder.status)).all()
        chosen = [*mine, PrintOrder.status == status] if status else mine
        total = session.scalar(select(func.count()).select_from(PrintOrder).where(*chosen)) or 0
        pages = max(1, math.ceil(total / PAGE_SIZE))
        page = min(page, pages)
        orders = session.execute(
            select(PrintOrder, Supplier.company_name)
            .outerjoin(Supplier, Supplier.supplier_id == PrintOrder.supplier_id)
            .where(*chosen)
            .order_by(PrintOrder.last_event_at.desc(), PrintOrder.order_id)
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        ).all()
        orderable = Procurement(unit).orderable(operator.buyer_id, date.today()) if operator.buyer_id else []
        return {
            "statuses": statuses,
            "total": total,
            "page": page,
            "pages": pages,
            "orders": orders,
            "orderable": orderable,
        }

    # Hand-offs ----------------------------------------------------------------------------

    async def hand_off(self, request: Request) -> Response:
        form = await _form(request)
        username, browser, since = request.session.get("user"), request.session.get("sid"), _since(request)
        if not username or not browser:
            return RedirectResponse(PREFIX + PATH + "/login", 303)
        if form is None or not _csrf_ok(request, form.get("csrf")):
            return self.message(request, 403, "Hand-off refused", "The form expired; please try again.")
        try:
            client = _client(self.cpras)
        except HandoffsOffError as off:
            return self.message(request, 503, "Hand-offs are off", str(off))
        base = str(self.cpras.public_url)  # required while hand-offs are on
        choice = str(form.get("choice") or "")

        def start() -> tuple[str, str, dict[str, Any]] | None:
            with self.unit() as unit:
                operator = Operators(unit).of_session(username, since)
                started = self._start(unit, operator, browser, base, choice) if operator else None
                unit.commit()
                return started

        started = await in_thread(start)
        if started is None:
            return self.message(request, 400, "Hand-off refused", "Nothing you can order in PrintPLANR was chosen.")
        kind, handoff_id, payload = started
        try:
            session_url = await in_thread(lambda: client.hand_off(kind, payload, handoff_id))
        except PrintplanrError as exc:
            log.warning("hand-off %s to PrintPLANR failed: %s", handoff_id, exc)
            return self.message(request, 502, "PrintPLANR is not available", f"{exc} Please try again later.")

        def mint() -> str:
            with self.unit() as unit:
                code = Handoffs(unit).issue_code(handoff_id, self.cpras.session_code_lifetime)
                unit.commit()
                return code

        code = await in_thread(mint)
        return RedirectResponse(_with_code(session_url, code), 303, headers={"Cache-Control": "no-store"})

    def _start(
        self, unit: UnitOfWork, operator: Operator, browser: str, base: str, choice: str
    ) -> tuple[str, str, dict[str, Any]] | None:
        """Record the operator's hand-off and build its payload; None (and nothing recorded) if
        they cannot make it. The supplier's user is the operator themself."""
        procurement, today = Procurement(unit), date.today()
        if operator.buyer_id:
            kind = "buyer"
            project_id, _, lot_id = choice.partition("|")
            payload = procurement.buyer_handoff(operator.buyer_id, project_id, lot_id, today, "")
        elif operator.supplier_id:
            kind = "supplier"
            payload = procurement.supplier_handoff(operator.supplier_id, operator.username, today, "")
            if payload is not None:  # the hand-off is for the contract's project and first lot
                project_id, lot_id = payload["framework"]["project_id"], payload["contracted_lots"][0]["lot_id"]
        else:
            payload = None
        if payload is None:
            return None
        client_id = str(self.cpras.printplanr_client_id)  # required while hand-offs are on
        started = Handoffs(unit).start(kind, operator.username, browser, client_id, project_id, lot_id)
        payload["redirect"]["return_url"] = base + return_path(PREFIX, started.state)
        return kind, started.handoff_id, payload

    async def come_back(self, request: Request) -> Response:
        username, browser, since = request.session.get("user"), request.session.get("sid"), _since(request)
        state = request.query_params.get("state") or ""
        if not username or not browser or not state:
            return self.message(
                request, 403, "Return not accepted", "This return link is for a hand-off started in another session."
            )

        def end() -> tuple[str, str] | None:
            with self.unit() as unit:
                if Operators(unit).of_session(username, since) is None:
                    return None
                ended = Handoffs(unit).come_back(state, username, browser, self.cpras.handoff_return_lifetime)
                unit.commit()
                return ended

        ended = await in_thread(end)
        if ended is None:
            return self.message(
                request,
                403,
                "Return not accepted",
                "This return link is not for a hand-off of this session, was used already, or is too old.",
            )
        request.session["notice"] = f"Welcome back from PrintPLANR (project {ended[0]}, lot {ended[1]})."
        return RedirectResponse(PREFIX + PATH, 303)


@functools.cache
def _client(cpras: CprasSettings) -> PrintplanrClient:
    return PrintplanrClient.of(cpras)


def _csrf(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def _csrf_ok(request: Request, sent: Any) -> bool:
    expected = request.session.get("csrf")
    return isinstance(sent, str) and bool(expected) and hmac.compare_digest(sent, str(expected))


def _with_code(url: str, code: str) -> str:
    """`url` with `code=…` added to its query, which is otherwise kept byte for byte."""
    parts = urlsplit(url)
    query = f"{parts.query}&code={quote(code)}" if parts.query else f"code={quote(code)}"
    return urlunsplit(parts._replace(query=query))


def _since(request: Request) -> float:
    since = request.session.get("since")
    return float(since) if isinstance(since, int | float) else 0.0


async def _form(request: Request) -> dict[str, str] | None:
    """The fields of a URL-encoded form, or None if it is larger than `FORM_LIMIT` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > FORM_LIMIT:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_LIMIT:
            return None
    try:
        return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=16))
    except ValueError:  # more fields than any form here has
        return None


def pages(mounted: Mounted[CprasSettings]) -> tuple[str, Any]:
    return PATH, PrintOrdersPages(mounted).app()
