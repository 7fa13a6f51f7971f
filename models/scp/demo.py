"""SCP demo data: the vertical catalogue; two tenants, each with an admin client holding every
scope and a governor client that reviews, approves and governs; a platform client; and, made
through the same rules as any request, integrations in several statuses with their
contracts, and templates of a tenant and of the platform. The demo clients' (public)
secrets are derived from their ids, never stored."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta
from typing import Any

from core.columns import utcnow
from core.unit_of_work import UnitOfWork
from models.scp import scopes
from models.scp.access import Caller
from models.scp.clients import Clients, Tenants
from models.scp.contracts import ContractService
from models.scp.exchanges import DataExchange, Request, store_push
from models.scp.integrations import IntegrationService
from models.scp.registry import Registry
from models.scp.repositories import Catalogue
from models.scp.settings import ScpSettings
from models.scp.tables import ADMIN, PLATFORM

DEMO_TENANTS = {"riverside-care": "Riverside Care Group", "harbour-health": "Harbour Health Trust"}
DEMO_VERTICALS = {
    "social-protection": "Social protection",
    "livelihoods": "Livelihoods",
    "health": "Health",
    "education": "Education",
    "nutrition": "Nutrition",
    "water-sanitation": "Water and sanitation",
}
PLATFORM_SCOPES = frozenset({scopes.REGISTRY_READ, scopes.REGISTRY_WRITE, scopes.INTEGRATIONS_WRITE})
GOVERNOR_SCOPES = frozenset(
    {scopes.INTEGRATIONS_READ, scopes.INTEGRATIONS_GOVERN, scopes.CONTRACTS_GOVERN, scopes.REGISTRY_READ}
)
DEMO_CLIENTS: dict[str, tuple[str | None, str, frozenset[str]]] = {  # client id: (tenant, role, scopes)
    "riverside-admin": ("riverside-care", ADMIN, scopes.ALL),
    "riverside-governor": ("riverside-care", ADMIN, GOVERNOR_SCOPES),
    "harbour-admin": ("harbour-health", ADMIN, scopes.ALL),
    "harbour-governor": ("harbour-health", ADMIN, GOVERNOR_SCOPES),
    "scp-platform": (None, PLATFORM, PLATFORM_SCOPES),
}
# The statuses a demo integration is walked to, by the lifecycle operations that lead there.
PATHS = {
    "draft": (),
    "requested": ("request-review",),
    "reviewed": ("request-review", "review"),
    "approved": ("request-review", "review", "approve"),
    "active": ("request-review", "review", "approve", "activate"),
    "restricted": ("request-review", "review", "approve", "activate", "restrict"),
    "suspended": ("request-review", "review", "approve", "activate", "suspend"),
    "deprecated": ("request-review", "review", "approve", "activate", "deprecate"),
    "archived": ("request-review", "review", "approve", "activate", "archive"),
}
REASONS = {
    "request-review": {"request_reason_code": "NEW_INTEGRATION"},
    "review": {"review_notes": "Field list checked against the data-sharing agreement."},
    "approve": {"approval_reason_code": "REQUIREMENTS_MET"},
    "restrict": {"reason_code": "EXCESSIVE_REQUEST_RATE"},
    "suspend": {"reason_code": "MISCONFIGURATION", "reason_text": "The partner's callback certificate expired."},
    "deprecate": {"reason_code": "SUPERSEDED"},
    "archive": {"reason_code": "NO_LONGER_NEEDED"},
}
TERMS: dict[str, Any] = {
    "purpose": "Pay cash transfers to enrolled households by mobile money.",
    "data_categories": ["identity", "contact"],
    "field_list": [
        {"field_name": "beneficiary_ref", "data_type": "string", "masking": "none"},
        {"field_name": "phone_number", "data_type": "string", "masking": "partial"},
        {"field_name": "national_id", "data_type": "string", "masking": "hash"},
    ],
    "consent_requirements": [
        {"consent_code": "partner_data_sharing", "data_categories": ["contact"], "on_missing": "omit_record"}
    ],
}
# tenant: (integration name, partner, partner type, verticals, status, contract status or None)
DEMO_INTEGRATIONS = {
    "riverside-care": [
        (
            "Mobile money disbursements",
            "PayFast Kenya Ltd",
            "financial_service_provider",
            ["social-protection"],
            "active",
            "active",
        ),
        ("Hospital referrals feed", "St Mary's Hospital", "health_provider", ["health"], "draft", "draft"),
        ("Payroll verification", "Civil Service Payroll", "government_agency", ["livelihoods"], "requested", None),
        (
            "School feeding roster",
            "Ministry of Education",
            "government_agency",
            ["education", "nutrition"],
            "restricted",
            "active",
        ),
        ("Legacy SMS gateway", "TextReach", "telecom_operator", ["social-protection"], "suspended", "active"),
        ("Old registry sync", "National Registry", "government_agency", ["social-protection"], "deprecated", "active"),
        ("Pilot data share", "Pilot Partners", "ngo", ["livelihoods"], "archived", None),
    ],
    "harbour-health": [
        ("Clinic appointments", "Harbour Clinics", "health_provider", ["health"], "active", "active"),
        ("Pharmacy stock", "CityPharm", "health_provider", ["health"], "reviewed", "draft"),
        ("Water point monitoring", "AquaWatch", "ngo", ["water-sanitation"], "approved", None),
    ],
}


def demo_client_secret(client_id: str) -> str:
    digest = hmac.new(b"scp demo client", client_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def ensure_demo_clients(unit: UnitOfWork) -> bool:
    """The demo verticals, tenants and clients, made if missing; whether any was made."""
    tenants, clients, catalogue = Tenants(unit), Clients(unit), Catalogue(unit)
    made = False
    known_verticals = {vertical.vertical_id for vertical in catalogue.verticals()}
    for vertical_id, name in DEMO_VERTICALS.items():
        if vertical_id not in known_verticals:
            catalogue.add_vertical(vertical_id, name)
            made = True
    known = {tenant.tenant_id for tenant in tenants.all()}
    for tenant_id, name in DEMO_TENANTS.items():
        if tenant_id not in known:
            tenants.create(tenant_id, name)
            made = True
    for client_id, (owner, role, granted) in DEMO_CLIENTS.items():
        if clients.find(client_id) is None and not any(row.client_id == client_id for row in clients.all()):
            secret = demo_client_secret(client_id)
            clients.create_for(client_id, f"{client_id} (demo)", role, owner, granted, secret)
            made = True
    return made


def _caller(client_id: str) -> Caller:
    tenant_id, role, granted = DEMO_CLIENTS[client_id]
    return Caller(client_id, role, tenant_id, scopes=granted)


def load_integrations(unit: UnitOfWork) -> None:
    """Each demo tenant's integrations, walked to their statuses by its admin (who registers
    and submits) and its governor (who governs), with their contracts; and the templates."""
    now = utcnow()
    for tenant_id, integrations in DEMO_INTEGRATIONS.items():
        prefix = tenant_id.split("-")[0]
        admin, governor = _caller(f"{prefix}-admin"), _caller(f"{prefix}-governor")
        for name, partner, partner_type, verticals, status, contract_status in integrations:
            registered = IntegrationService(unit, admin).create(
                {
                    "integration_name": name,
                    "partner_name": partner,
                    "partner_type": partner_type,
                    "vertical_ids": verticals,
                    "active_from": now - timedelta(days=30),
                    "active_until": now + timedelta(days=365),
                }
            )
            integration_id = registered.integration_id
            if contract_status is not None:
                contracts = ContractService(unit, admin)
                contract = contracts.add_to(integration_id, {**TERMS, "active_from": now - timedelta(days=30)})
                if contract_status == "active":
                    ContractService(unit, governor).activate(integration_id, contract.contract_id)
            for operation in PATHS[status]:
                actor = admin if operation == "request-review" else governor
                IntegrationService(unit, actor).move(integration_id, operation, REASONS.get(operation))
    template = {
        "partner_type": "financial_service_provider",
        "vertical_ids": ["social-protection"],
        "contract_template": TERMS,
    }
    Registry(unit, _caller("riverside-admin")).register({**template, "template_name": "Mobile money payment provider"})
    platform = Registry(unit, _caller("scp-platform"))
    platform.register({**template, "template_name": "National payment switch"})
    platform.register(
        {
            "template_name": "Health information exchange",
            "partner_type": "health_provider",
            "vertical_ids": ["health"],
            "contract_template": {**TERMS, "purpose": "Share referral and appointment data with clinics."},
        }
    )


DEMO_RECORDS = [
    {"beneficiary_ref": f"B-{1000 + n}", "phone_number": f"+2547000{n:05d}", "national_id": f"{31000000 + n}",
     "_consents": ["partner_data_sharing"] if n % 5 else []}
    for n in range(1, 26)
]  # fmt: skip


def load_records(unit: UnitOfWork, settings: ScpSettings) -> None:
    """Riverside's records, pushed by its active integration under its active contract (every
    fifth without the data subject's consent, so not stored) and stored as the worker would."""
    admin = _caller("riverside-admin")
    (integration,) = IntegrationService(unit, admin).page("active", None, None, 1, 1)[0]
    contract = next(c for c in IntegrationService(unit, admin).details(integration.integration_id).contracts)
    request = Request(admin, "demo-data")
    accepted = DataExchange(unit, request, settings).push(
        integration.integration_id, contract.contract_id, "json", DEMO_RECORDS
    )
    store_push(unit, accepted.id)


def load_demo_data(unit: UnitOfWork, settings: ScpSettings) -> bool:
    # The demo secrets are public: they join only a database with no client of its own.
    if Clients(unit).all():
        return False
    ensure_demo_clients(unit)
    load_integrations(unit)
    load_records(unit, settings)
    return True
