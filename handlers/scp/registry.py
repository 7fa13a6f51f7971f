"""The integration registry: list and register templates, and instantiate them."""

from __future__ import annotations

from typing import Any

from connexion import request
from starlette.responses import Response

from core.responses import Json, created, json_body, location
from core.unit_of_work import current_unit
from handlers.scp import dto
from handlers.scp.calls import ACTED_IN, extensions
from handlers.scp.context import idempotent
from models.scp.access import Caller
from models.scp.registry import Registry


def list_registry_templates(
    principal: Caller, page: int, limit: int, partner_type: str | None = None, status: str | None = None
) -> Json:
    """List the templates the caller sees, by name."""
    rows, total = Registry(current_unit(), principal).page(partner_type, status, page, limit)
    return json_body(dto.page(page, limit, total, dto.templates_dto.dump(rows)))


def create_registry_template(principal: Caller, body: dict[str, Any]) -> Response:
    """Register a template, of the caller's tenant or (a platform client's) of the platform."""

    def register() -> Json:
        template = Registry(current_unit(), principal).register(body)
        answer = {
            "template_id": template.template_id,
            "status": template.status,
            "created_at": dto.stamp(template.created_at),
        }
        return created(answer, location("/integrations/registry/{id}", id=template.template_id))

    return idempotent(principal, register)


def instantiate_registry_template(principal: Caller, template_id: str, body: dict[str, Any]) -> Response:
    """Create a draft integration, with a draft contract, from a template."""

    def instantiate() -> Json:
        made = Registry(current_unit(), principal).instantiate(template_id, body)
        if principal.is_platform:  # the log says whose tenant it acted in
            extensions(request.scope)[ACTED_IN] = made.integration.tenant_id
        integration = made.integration
        answer = {
            "integration_id": integration.integration_id,
            "status": integration.status,
            "created_at": dto.stamp(integration.created_at),
            "contract_id": made.contract.contract_id,
        }
        return created(answer, location("/integrations/{id}", id=integration.integration_id))

    return idempotent(principal, instantiate)
