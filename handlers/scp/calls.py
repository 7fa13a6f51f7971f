"""The API call log: "Integration API calls MUST be logged; failures MUST be auditable."

An ASGI middleware around everything under /scp records each call, refused ones included
(401, 403, 429, a validation error), with its tenant and client (from the verified token),
operation, target, outcome, reason and request id. The entry is written in a transaction
of its own, off the event loop, before the answer leaves: a refusal rolls its request's
transaction back, but never its log entry.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.columns import utcnow
from core.config import Settings
from core.database import Database
from core.oauth.endpoint import claimed_client
from core.ratelimit import authorization
from core.request_context import current_request_id
from core.unit_of_work import UnitOfWork
from models.scp.access import Caller
from models.scp.repositories import AuditLog
from models.scp.tables import AuditEntry

logger = logging.getLogger(__name__)

CALLER = "scp_caller"  # where the rate limiter or the security check leaves the verified caller
CLAIMED = "scp_claimed_client"  # where the token endpoint leaves the client a request claims
ACTED_IN = "scp_acted_in"  # the tenant a platform client acted in (instantiating a template)
PROBLEM = "scp_problem"  # where the error renderer leaves the problem's type and detail
TARGETS = ("integration_id", "contract_id", "template_id", "webhook_id")
_PARAMETER = re.compile(r"\{([^/{}]+)\}")


def extensions(scope: Scope) -> dict[str, Any]:
    found: dict[str, Any] = scope.setdefault("extensions", {})
    return found


@dataclass(frozen=True)
class _Route:
    template: str
    method: str
    pattern: re.Pattern[str]
    operation: str


def routes(paths: Mapping[str, Any]) -> list[_Route]:
    """The spec's operations, most specific path first (`/integrations/registry` before
    `/integrations/{integration_id}`)."""
    found = []
    for template, item in paths.items():
        pattern = re.compile(
            "^" + _PARAMETER.sub(r"(?P<\1>[^/]+)", re.escape(template).replace(r"\{", "{").replace(r"\}", "}")) + "$"
        )
        for method, operation in item.items():
            if isinstance(operation, dict) and "operationId" in operation:
                found.append(
                    (
                        template.count("{"),
                        -len(template),
                        _Route(template, method.upper(), pattern, operation["operationId"]),
                    )
                )
    return [route for *_, route in sorted(found, key=lambda entry: entry[:2])]


def outcome_of(status: int) -> str:
    if status < 400:
        return "succeeded"
    return "failed" if status >= 500 else "refused"


class CallLog:
    def __init__(
        self, app: ASGIApp, *, prefix: str, paths: Mapping[str, Any], database: Database, settings: Settings
    ) -> None:
        self.app = app
        self.prefix = prefix
        self.routes = routes(paths)
        self.database = database
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not (scope["path"] + "/").startswith(self.prefix + "/"):
            await self.app(scope, receive, send)
            return
        logged = False

        async def log_then_send(message: Message) -> None:
            nonlocal logged
            if message["type"] == "http.response.start" and not logged:
                logged = True
                await self._log(scope, message["status"])
            await send(message)

        try:
            await self.app(scope, receive, log_then_send)
        except Exception:
            if not logged:
                await self._log(scope, 500)
            raise

    async def _log(self, scope: Scope, status: int) -> None:
        entry = self.entry(scope, status)
        try:
            await anyio.to_thread.run_sync(self._write, entry)
        except Exception:  # the answer still goes out; the failure to log it is logged loudly
            logger.exception("could not write the API call log entry of request %s", entry.request_id)

    def entry(self, scope: Scope, status: int) -> AuditEntry:
        path: str = scope["path"]
        method: str = scope["method"]
        operation, target = "<unmatched>", None
        relative = path[len(self.prefix) :] or "/"
        path_of: str | None = None  # the most specific template the path matches: OpenAPI's match
        for route in self.routes:
            if path_of is not None and route.template != path_of:
                continue
            matched = route.pattern.match(relative)
            if matched is None:
                continue
            path_of = route.template
            if route.method == method:
                operation = route.operation
                named = matched.groupdict()
                found = [f"{name.removesuffix('_id')} {named[name]}" for name in TARGETS if name in named]
                target = " ".join(found) or None
                break
        known = extensions(scope)
        caller: Caller | None = known.get(CALLER)
        problem: tuple[str, str | None] | None = known.get(PROBLEM)
        reason = None
        if problem is not None:
            kind, detail = problem
            reason = f"{kind}: {detail}" if detail else kind
        claimed = known.get(CLAIMED) or claimed_client({}, authorization(scope))
        return AuditEntry(
            at=utcnow(),
            request_id=current_request_id(),
            tenant_id=known.get(ACTED_IN) or (caller.tenant_id if caller else None),
            client_id=(caller.client_id if caller else claimed or None),
            operation=operation,
            method=method[:8],
            path=path[:2048],
            target=target[:200] if target else None,
            status=status,
            outcome=outcome_of(status),
            reason=reason[:4000] if reason else None,
        )

    def _write(self, entry: AuditEntry) -> None:
        with UnitOfWork(self.database, self.settings) as unit:
            AuditLog(unit).append(entry)
            unit.commit()
