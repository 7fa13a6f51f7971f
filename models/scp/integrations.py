"""Integrations: registration, updates as new versions, and the governed lifecycle.

Every method acts through repositories scoped to the caller (models/scp/repositories.py),
so an integration of another tenant is never found. The rules the schema cannot state live
here: windows against stored values and the clock, vertical ids against the catalogue,
the state table, separation of duties, and the integration's own client, issued on its
first activation and enabled only while its integration may exchange data.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.columns import aware, utcnow
from core.oauth.clients import NewSecret
from core.problems import Unauthorized
from core.unit_of_work import UnitOfWork
from models.scp import lifecycle, problems, scopes
from models.scp.access import Caller
from models.scp.clients import Clients
from models.scp.events import CONTRACT_ARCHIVED, integration_event, publish
from models.scp.lifecycle import TRANSITIONS, exchange_directions
from models.scp.repositories import Catalogue, Contracts, Integrations, TenantScope, Webhooks
from models.scp.tables import INTEGRATION, Contract, Integration

# Why a webhook was disabled when its integration was archived: its last events still go out.
ARCHIVED_WITH_INTEGRATION = "INTEGRATION_ARCHIVED"
REGISTRATION_FIELDS = ("integration_name", "partner_name", "vertical_ids", "active_from", "active_until")


def scope_of(unit: UnitOfWork, caller: Caller) -> TenantScope:
    """The scope a caller acts in. An integration's own client acts only on its integration,
    and only while that integration may exchange data: its token stops working once the
    integration is suspended or archived (or deprecated after a suspension)."""
    scope = TenantScope(caller.tenant(), caller.integration_id)
    if caller.is_integration:
        own = Integrations(unit, scope).get(str(caller.integration_id))
        if own is None or not exchange_directions(own.status, own.deprecated_from):
            raise Unauthorized("The integration this token's client belongs to exchanges no data now.")
    return scope


def check_window(active_from: datetime | None, active_until: datetime | None, now: datetime) -> None:
    """The rules of a window given whole in one body: an end not after its start is invalid
    input (400); an end already past conflicts with the clock (409)."""
    if active_from is not None and active_until is not None and active_until <= active_from:
        raise problems.invalid_input({"body.active_until": ["Must be later than active_from."]})
    if active_until is not None and active_until <= now:
        raise problems.invalid_window(f"active_until {active_until.isoformat()} is already past.")


def check_verticals(unit: UnitOfWork, vertical_ids: list[str] | None, field: str = "vertical_ids") -> None:
    unknown = Catalogue(unit).unknown_verticals(vertical_ids or [])
    if unknown:
        raise problems.unknown_verticals(unknown, field)


def registration(integration: Integration) -> dict[str, Any]:
    """The fields a version of an integration keeps, as JSON."""
    return {
        "integration_name": integration.integration_name,
        "partner_name": integration.partner_name,
        "vertical_ids": list(integration.vertical_ids),
        "active_from": aware(integration.active_from).isoformat(),
        "active_until": aware(integration.active_until).isoformat() if integration.active_until else None,
    }


@dataclass(frozen=True)
class Details:
    """An integration with its contracts, as `getIntegration` answers it."""

    integration: Integration
    contracts: list[Contract]


@dataclass(frozen=True)
class Moved:
    """An integration after a lifecycle operation, with its client's secret when this
    operation issued the client."""

    integration: Integration
    issued: NewSecret | None = None


class IntegrationService:
    def __init__(self, unit: UnitOfWork, caller: Caller) -> None:
        self.unit = unit
        self.caller = caller
        self.scope = scope_of(unit, caller)
        self.integrations = Integrations(unit, self.scope)

    def page(
        self, status: str | None, partner_type: str | None, vertical_id: str | None, page: int, limit: int
    ) -> tuple[list[Integration], int]:
        return self.integrations.matching(status, partner_type, vertical_id, page, limit)

    def details(self, integration_id: str) -> Details:
        integration = self._get(integration_id)
        return Details(integration, Contracts(self.unit, self.scope).of([integration_id]))

    def create(self, body: Mapping[str, Any], template_id: str | None = None) -> Integration:
        """Register an integration, in `draft`, with its first version."""
        self.caller.may_change("register integrations")
        now = utcnow()
        check_window(body["active_from"], body.get("active_until"), now)
        check_verticals(self.unit, body["vertical_ids"])
        integration = Integration(
            integration_id=str(uuid.uuid4()),
            tenant_id=self.scope.tenant_id,
            integration_name=body["integration_name"],
            partner_name=body["partner_name"],
            partner_type=body["partner_type"],
            vertical_ids=list(body["vertical_ids"]),
            active_from=body["active_from"],
            active_until=body.get("active_until"),
            data_contract_ref=body.get("data_contract_ref"),
            template_id=template_id,
            version_id=1,
            status=lifecycle.DRAFT,
            created_at=now,
            updated_at=now,
        )
        self.integrations.add(integration)
        self.integrations.set_verticals(integration)
        self.integrations.record_version(integration, registration(integration), self.caller.client_id, now)
        return integration

    def update(self, integration_id: str, changes: Mapping[str, Any]) -> Integration:
        """Apply the given fields as a new version. The row is locked first, so concurrent
        updates apply one after the other and none is lost."""
        self.caller.may_change("update integrations")
        integration = self._get(integration_id, lock=True)
        if integration.status == lifecycle.ARCHIVED:
            raise problems.invalid_transition(
                f"Integration {integration_id} is archived; an archived integration cannot be changed."
            )
        now = utcnow()
        check_window(changes.get("active_from"), changes.get("active_until"), now)
        if "vertical_ids" in changes:
            check_verticals(self.unit, changes["vertical_ids"])
        start = changes.get("active_from", integration.active_from)
        end = changes.get("active_until", integration.active_until)
        if end is not None and aware(end) <= aware(start):
            given = "active_from" if "active_from" in changes else "active_until"
            raise problems.invalid_window(
                f"The {given} given would leave the window ending ({aware(end).isoformat()}) "
                f"before or when it starts ({aware(start).isoformat()})."
            )
        values = {name: changes[name] for name in REGISTRATION_FIELDS if name in changes}
        values["updated_at"] = now
        if not self.integrations.bump(integration, integration.version_id, values):
            raise problems.version_conflict(f"Integration {integration_id} was changed meanwhile; retry the update.")
        if "vertical_ids" in changes:
            self.integrations.set_verticals(integration)
        self.integrations.record_version(integration, registration(integration), self.caller.client_id, now)
        return integration

    def move(self, integration_id: str, operation: str, body: Mapping[str, Any] | None = None) -> Moved:
        """Apply one lifecycle operation, as the state table allows it."""
        self.caller.may_change("govern integrations" if operation != "request-review" else "request a review")
        transition = TRANSITIONS[operation]
        integration = self._get(integration_id, lock=True)
        if integration.status not in transition.sources:
            raise problems.invalid_transition(lifecycle.refusal(transition, integration.status))
        body = body or {}
        now = utcnow()
        if operation in ("review", "approve") and integration.requested_by == self.caller.client_id:
            raise problems.separation_of_duties(
                f"Client {self.caller.client_id} requested this review, so it may not {operation} it; "
                "another client must."
            )
        if operation == "activate" and integration.active_until and aware(integration.active_until) <= now:
            raise problems.invalid_window(
                f"Integration {integration_id}'s window ended at {aware(integration.active_until).isoformat()}."
            )
        source, live_before = integration.status, self._live(integration)
        integration.status = transition.target
        integration.updated_at = now
        setattr(integration, transition.stamp, now)
        self._record_actor(integration, operation, body, now)
        if operation == "deprecate":
            integration.deprecated_from = source
        if operation == "archive":
            for contract in Contracts(self.unit, self.scope).open_of(integration_id):
                contract.status, contract.archived_at, contract.updated_at = "archived", now, now
                contract.archive_reason_code, contract.archive_reason_text = (
                    body["reason_code"],
                    body.get("reason_text"),
                )
                contract_event(self.unit, CONTRACT_ARCHIVED, contract, now)
            retire_webhooks(self.unit, self.scope, integration_id, now)
        issued = self._follow_client(integration, live_before)
        publish(
            self.unit,
            integration_event(transition.target),
            integration.integration_id,
            {
                "status": transition.target,
                "previous_status": source,
                "reason_code": integration.last_reason_code if integration.last_reason_at == now else None,
                "reason_text": integration.last_reason_text if integration.last_reason_at == now else None,
            },
            now,
        )
        self.unit.session.flush()
        return Moved(integration, issued)

    def _record_actor(self, integration: Integration, operation: str, body: Mapping[str, Any], now: datetime) -> None:
        """Who did it, and the reason given, for the operations that take one."""
        if operation == "request-review":
            integration.requested_by = self.caller.client_id
            reason = (body["request_reason_code"], body.get("request_reason_text"))
        elif operation == "review":
            integration.reviewed_by, integration.review_notes = self.caller.client_id, body.get("review_notes")
            return
        elif operation == "approve":
            integration.approved_by = self.caller.client_id
            reason = (body["approval_reason_code"], body.get("approval_reason_text"))
        elif "reason_code" in body:
            reason = (body["reason_code"], body.get("reason_text"))
        else:
            return
        integration.last_reason_code, integration.last_reason_text = reason
        integration.last_reason_at = now

    def _follow_client(self, integration: Integration, live_before: bool) -> NewSecret | None:
        """The integration's own client: issued on the first activation, then disabled when
        its integration stops exchanging data and enabled when it starts again. A move that
        changes neither leaves the client as it is (an operator may have disabled it)."""
        clients = Clients(self.unit)
        if integration.auth_client_id is None:
            if integration.status != lifecycle.ACTIVE:
                return None
            client_id = f"scp-int-{integration.integration_id}"
            issued = clients.create_for(
                client_id,
                f"{integration.integration_name} (integration)",
                INTEGRATION,
                integration.tenant_id,
                scopes.INTEGRATION_CLIENT,
                integration_id=integration.integration_id,
            )
            integration.auth_client_id = client_id
            return issued
        if live_before == self._live(integration):
            return None  # what the client may do is unchanged: so is any operator's disabling of it
        row = clients.row(integration.auth_client_id)
        if live_before and row.disabled_at is None:
            clients.disable(integration.auth_client_id)
        elif not live_before and row.disabled_at is not None:
            clients.enable(integration.auth_client_id)
        return None

    @staticmethod
    def _live(integration: Integration) -> bool:
        return bool(exchange_directions(integration.status, integration.deprecated_from))

    def _get(self, integration_id: str, *, lock: bool = False) -> Integration:
        return self.integrations.found(integration_id, lock=lock)


def contract_event(unit: UnitOfWork, kind: str, contract: Contract, at: datetime | None = None) -> None:
    payload = {"contract_id": contract.contract_id, "status": contract.status, "version_id": contract.version_id}
    publish(unit, kind, contract.integration_id, payload, at)


def retire_webhooks(unit: UnitOfWork, scope: TenantScope, integration_id: str, now: datetime) -> None:
    """An archived integration's webhooks: disabled, once the events of its archiving are out."""
    for webhook in Webhooks(unit, scope).of_integration(integration_id):
        if webhook.status == "active":
            webhook.status, webhook.disabled_at, webhook.updated_at = "disabled", now, now
            webhook.disable_reason_code = ARCHIVED_WITH_INTEGRATION
