"""Data contracts of an integration: add, update (a new version), activate and archive."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from core.responses import Json, created, json_body, location
from core.unit_of_work import current_unit
from handlers.scp import dto
from handlers.scp.context import idempotent
from models.scp.access import Caller
from models.scp.contracts import ContractService


def create_integration_contract(principal: Caller, integration_id: str, body: dict[str, Any]) -> Response:
    """Add a draft data contract to an integration."""

    def add() -> Json:
        contract = ContractService(current_unit(), principal).add_to(integration_id, dto.with_times(body))
        answer = {
            "contract_id": contract.contract_id,
            "status": contract.status,
            "created_at": dto.stamp(contract.created_at),
        }
        path = location("/integrations/{id}/contracts/{contract}", id=integration_id, contract=contract.contract_id)
        return created(answer, path)

    return idempotent(principal, add)


def update_integration_contract(
    principal: Caller, integration_id: str, contract_id: str, body: dict[str, Any]
) -> Response:
    """Change a contract's terms, as a new version."""

    def update() -> Json:
        contract = ContractService(current_unit(), principal).update(integration_id, contract_id, dto.with_times(body))
        answer = {
            "contract_id": contract.contract_id,
            "updated_at": dto.stamp(contract.updated_at),
            "version_id": contract.version_id,
        }
        return json_body(answer)

    return idempotent(principal, update)


def activate_integration_contract(principal: Caller, integration_id: str, contract_id: str) -> Response:
    """Activate a draft contract."""

    def activate() -> Json:
        contract = ContractService(current_unit(), principal).activate(integration_id, contract_id)
        return json_body(
            {
                "contract_id": contract.contract_id,
                "status": contract.status,
                "activated_at": dto.stamp(contract.activated_at),
            }
        )

    return idempotent(principal, activate)


def archive_integration_contract(
    principal: Caller, integration_id: str, contract_id: str, body: dict[str, Any]
) -> Response:
    """Archive a contract."""

    def archive() -> Json:
        contract = ContractService(current_unit(), principal).archive(integration_id, contract_id, body)
        return json_body(
            {
                "contract_id": contract.contract_id,
                "status": contract.status,
                "archived_at": dto.stamp(contract.archived_at),
            }
        )

    return idempotent(principal, archive)
