"""Integrations: list, register, read and update, in the token's tenant."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from core.responses import Json, created, json_body, location
from core.unit_of_work import current_unit
from handlers.scp import dto
from handlers.scp.context import idempotent
from models.scp.access import Caller
from models.scp.integrations import IntegrationService


def list_integrations(
    principal: Caller,
    page: int,
    limit: int,
    status: str | None = None,
    partner_type: str | None = None,
    vertical_id: str | None = None,
) -> Json:
    """List the tenant's integrations, newest first."""
    rows, total = IntegrationService(current_unit(), principal).page(status, partner_type, vertical_id, page, limit)
    return json_body(dto.page(page, limit, total, dto.summaries_dto.dump(rows)))


def create_integration(principal: Caller, body: dict[str, Any]) -> Response:
    """Register an integration, in draft."""

    def create() -> Json:
        integration = IntegrationService(current_unit(), principal).create(dto.with_times(body))
        answer = {
            "integration_id": integration.integration_id,
            "status": integration.status,
            "created_at": dto.stamp(integration.created_at),
        }
        return created(answer, location("/integrations/{id}", id=integration.integration_id))

    return idempotent(principal, create)


def get_integration(principal: Caller, integration_id: str) -> Json:
    """Read an integration with its contracts."""
    details = IntegrationService(current_unit(), principal).details(integration_id)
    return json_body(dto.integration(details.integration, details.contracts))


def update_integration(principal: Caller, integration_id: str, body: dict[str, Any]) -> Response:
    """Change an integration's registration fields, as a new version."""

    def update() -> Json:
        integration = IntegrationService(current_unit(), principal).update(integration_id, dto.with_times(body))
        answer = {
            "integration_id": integration.integration_id,
            "updated_at": dto.stamp(integration.updated_at),
            "version_id": integration.version_id,
        }
        return json_body(answer)

    return idempotent(principal, update)
