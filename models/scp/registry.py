"""The integration registry: templates, and integrations created from them.

A tenant's client registers templates of its tenant, seen by no other tenant; a platform
client registers platform templates, seen by every tenant. A tenant's client instantiates
its own or a platform template into its own tenant only; a platform client instantiates
platform templates into the tenant the request names. `tenant_id` is always checked, never
chosen: a mismatch (or, for a platform client, an unknown tenant) answers 403 and creates
nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.columns import utcnow
from core.problems import NotFound
from core.unit_of_work import UnitOfWork
from models.scp import problems
from models.scp.access import Caller
from models.scp.contracts import ContractService, ContractTerms, check_terms
from models.scp.integrations import IntegrationService, check_verticals
from models.scp.repositories import Catalogue, Templates, TenantScope
from models.scp.tables import Contract, Integration, Template

ACTIVE = "active"


@dataclass(frozen=True)
class Instantiated:
    integration: Integration
    contract: Contract


class Registry:
    def __init__(self, unit: UnitOfWork, caller: Caller) -> None:
        caller.may_change("use the integration registry")
        self.unit = unit
        self.caller = caller
        self.templates = Templates(unit, TenantScope(caller.tenant_id))

    def page(self, partner_type: str | None, status: str | None, page: int, limit: int) -> tuple[list[Any], int]:
        return self.templates.matching(partner_type, status, page, limit)

    def register(self, body: Mapping[str, Any]) -> Template:
        self.caller.may_change("register templates")
        check_verticals(self.unit, body["vertical_ids"])
        check_terms(body["contract_template"], "body.contract_template")
        template = Template(
            template_id=str(uuid.uuid4()),
            tenant_id=self.caller.tenant_id,
            template_name=body["template_name"],
            partner_type=body["partner_type"],
            vertical_ids=list(body["vertical_ids"]),
            status=ACTIVE,
            contract_template=ContractTerms.from_body(body["contract_template"]).as_json(),
            created_at=utcnow(),
            created_by=self.caller.client_id,
        )
        self.templates.add(template)
        return template

    def instantiate(self, template_id: str, body: Mapping[str, Any]) -> Instantiated:
        self.caller.may_change("instantiate templates")
        template = self.templates.get(template_id)
        if template is None:
            raise NotFound(f"Template {template_id} was not found.")
        tenant_id = body["tenant_id"]
        if self.caller.is_platform:
            if not Catalogue(self.unit).tenant_exists(tenant_id):
                raise problems.tenant_mismatch(f"A platform client cannot instantiate into tenant {tenant_id!r}.")
        elif tenant_id != self.caller.tenant_id:
            raise problems.tenant_mismatch(
                f"tenant_id {tenant_id!r} is not the token's tenant; templates are instantiated into it only."
            )
        if template.status != ACTIVE:
            raise problems.template_not_active(
                f"Template {template_id} is {template.status}; only an active template can be instantiated."
            )
        check_verticals(self.unit, body.get("vertical_ids"))
        into = Caller(self.caller.client_id, self.caller.role, tenant_id, scopes=self.caller.scopes)
        now = utcnow()
        integration = IntegrationService(self.unit, into).create(
            {
                "integration_name": body["integration_name"],
                "partner_name": body["partner_name"],
                "partner_type": template.partner_type,
                "vertical_ids": body.get("vertical_ids") or template.vertical_ids,
                "active_from": now,
            },
            template_id=template.template_id,
        )
        contract = ContractService(self.unit, into).add(integration, dict(template.contract_template), now)
        return Instantiated(integration, contract)
