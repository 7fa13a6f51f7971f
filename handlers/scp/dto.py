"""SCP's request times and response bodies (snake_case, as the spec spells them)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from marshmallow import fields

from core.columns import rfc3339
from core.dto import Dto, Stamp
from models.scp import problems
from models.scp.lifecycle import exchange_directions
from models.scp.tables import Integration

TIMES = ("active_from", "active_until")


UNREADABLE_TIME = "Must be an RFC 3339 date-time within years 1 to 9999, such as 2026-03-01T00:00:00Z."


def _moment(value: Any) -> datetime:
    moment = datetime.fromisoformat(str(value).upper())
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def instant(value: str, where: str) -> datetime:
    """A date-time parameter, in UTC; one that cannot be read is invalid input."""
    try:
        return _moment(value)
    except (ValueError, OverflowError):
        raise problems.invalid_input({where: [UNREADABLE_TIME]}) from None


def with_times(body: Mapping[str, Any]) -> dict[str, Any]:
    """The body with its date-times read (RFC 3339, in UTC); one that cannot be is invalid input."""
    read = dict(body)
    errors: dict[str, list[str]] = {}
    for name in TIMES:
        value = read.get(name)
        if value is None:
            continue
        try:
            read[name] = _moment(value)
        except (ValueError, OverflowError):
            errors[f"body.{name}"] = [UNREADABLE_TIME]
    if errors:
        raise problems.invalid_input(errors)
    return read


class ContractDto(Dto):
    contract_id = fields.String()
    integration_id = fields.String()
    status = fields.String()
    version_id = fields.Integer()
    purpose = fields.String()
    data_categories = fields.List(fields.String())
    field_list = fields.Raw()
    consent_requirements = fields.Raw()
    active_from = Stamp()
    active_until = Stamp(allow_none=True)
    created_at = Stamp()
    updated_at = Stamp()
    activated_at = Stamp(allow_none=True)
    archived_at = Stamp(allow_none=True)


class IntegrationSummaryDto(Dto):
    integration_id = fields.String()
    integration_name = fields.String()
    partner_name = fields.String()
    partner_type = fields.String()
    status = fields.String()
    vertical_ids = fields.List(fields.String())
    created_at = Stamp()
    updated_at = Stamp()


class IntegrationDto(IntegrationSummaryDto):
    active_from = Stamp()
    active_until = Stamp(allow_none=True)
    data_contract_ref = fields.String(allow_none=True)
    template_id = fields.String(allow_none=True)
    auth_client_id = fields.String(allow_none=True)
    version_id = fields.Integer()
    requested_at = Stamp(allow_none=True)
    reviewed_at = Stamp(allow_none=True)
    review_notes = fields.String(allow_none=True)
    approved_at = Stamp(allow_none=True)
    activated_at = Stamp(allow_none=True)
    restricted_at = Stamp(allow_none=True)
    suspended_at = Stamp(allow_none=True)
    deprecated_at = Stamp(allow_none=True)
    archived_at = Stamp(allow_none=True)
    exchange_directions = fields.Method("_directions")

    def _directions(self, integration: Integration) -> list[str]:
        return list(exchange_directions(integration.status, integration.deprecated_from))


class TemplateDto(Dto):
    template_id = fields.String()
    template_name = fields.String()
    partner_type = fields.String()
    vertical_ids = fields.List(fields.String())
    status = fields.String()
    scope = fields.Method("_scope")
    contract_template = fields.Raw()
    created_at = Stamp()

    def _scope(self, template: Any) -> str:
        return "tenant" if template.tenant_id else "platform"


contract_dto = ContractDto()
integration_dto = IntegrationDto()
summaries_dto = IntegrationSummaryDto(many=True)
templates_dto = TemplateDto(many=True)


def stamp(moment: datetime | None) -> str | None:
    return None if moment is None else rfc3339(moment)


def integration(row: Integration, contracts: Iterable[Any]) -> dict[str, Any]:
    body: dict[str, Any] = integration_dto.dump(row)
    if row.last_reason_code is not None:
        body["last_status_reason"] = {
            "reason_code": row.last_reason_code,
            "reason_text": row.last_reason_text,
            "recorded_at": stamp(row.last_reason_at),
        }
    body["contracts"] = [contract_dto.dump(contract) for contract in contracts]
    return body


def page(page: int, limit: int, total: int, items: list[Any]) -> dict[str, Any]:
    return {"page": page, "limit": limit, "total": total, "items": items}
