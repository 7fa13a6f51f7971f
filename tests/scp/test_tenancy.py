"""Tenant isolation: every operation, tried by another tenant with this tenant's ids, answers
404 exactly as for an id that does not exist, and changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from handlers.scp.api import GOVERNED
from tests.scp.conftest import INTEGRATIONS, Scp, contract_terms, problem, registration

REASON = {"reason_code": "MISCONFIGURATION"}


def operations(integration_id: str, contract_id: str, template_id: str) -> list[tuple[str, str, str, Any]]:
    """Every operation that names a resource: (operationId, method, path, body)."""
    one = f"{INTEGRATIONS}/{integration_id}"
    contract = f"{one}/contracts/{contract_id}"
    return [
        ("getIntegration", "GET", one, None),
        ("updateIntegration", "PATCH", one, {"partner_name": "Intruder"}),
        ("requestIntegrationReview", "POST", f"{one}/request-review", {"request_reason_code": "NEW_INTEGRATION"}),
        ("reviewIntegration", "POST", f"{one}/review", {}),
        ("approveIntegration", "POST", f"{one}/approve", {"approval_reason_code": "REQUIREMENTS_MET"}),
        ("activateIntegration", "POST", f"{one}/activate", None),
        ("restrictIntegration", "POST", f"{one}/restrict", REASON),
        ("suspendIntegration", "POST", f"{one}/suspend", REASON),
        ("deprecateIntegration", "POST", f"{one}/deprecate", REASON),
        ("archiveIntegration", "POST", f"{one}/archive", REASON),
        ("createIntegrationContract", "POST", f"{one}/contracts", contract_terms()),
        ("updateIntegrationContract", "PATCH", contract, {"purpose": "Intruder"}),
        ("activateIntegrationContract", "POST", f"{contract}/activate", None),
        ("archiveIntegrationContract", "POST", f"{contract}/archive", REASON),
        (
            "instantiateRegistryTemplate",
            "POST",
            f"{INTEGRATIONS}/registry/{template_id}/instantiate",
            {"tenant_id": "harbour-health", "integration_name": "x", "partner_name": "y"},
        ),
    ]


def riverside_resources(scp: Scp) -> tuple[str, str, str]:
    integration_id = scp.walked_to("active")
    contract_id = scp.add_contract(integration_id)
    template = scp.call(
        "riverside-admin",
        "POST",
        f"{INTEGRATIONS}/registry",
        {
            "template_name": "Riverside only",
            "partner_type": "ngo",
            "vertical_ids": ["health"],
            "contract_template": {k: v for k, v in contract_terms().items() if k != "active_from"},
        },
    )
    assert template.status_code == 201, template.text
    return integration_id, contract_id, str(template.json()["template_id"])


NAMES = [name for name, *_ in operations("i", "c", "t")]


@pytest.mark.parametrize("operation", NAMES)
def test_another_tenants_ids_answer_404(scp: Scp, operation: str) -> None:
    integration_id, contract_id, template_id = riverside_resources(scp)
    before = scp.get(integration_id)
    _, method, path, body = next(
        entry for entry in operations(integration_id, contract_id, template_id) if entry[0] == operation
    )
    client = "harbour-governor" if operation in GOVERNED else "harbour-admin"
    error = problem(scp.call(client, method, path, body), 404)
    assert "was not found" in error["detail"]
    assert scp.get(integration_id) == before, "nothing of the other tenant's changed"


@pytest.mark.parametrize("operation", NAMES)
def test_an_unknown_id_answers_the_same_404(scp: Scp, operation: str) -> None:
    unknown = str(uuid.uuid4())
    _, method, path, body = next(entry for entry in operations(unknown, unknown, unknown) if entry[0] == operation)
    client = "riverside-governor" if operation in GOVERNED else "riverside-admin"
    problem(scp.call(client, method, path, body), 404)


def test_lists_show_only_the_tenants_own(scp: Scp) -> None:
    integration_id = scp.create("riverside-admin", integration_name="Riverside's own")
    harbour = scp.call("harbour-admin", "GET", f"{INTEGRATIONS}?limit=100").json()
    assert integration_id not in {item["integration_id"] for item in harbour["items"]}
    riverside = scp.call("riverside-admin", "GET", f"{INTEGRATIONS}?limit=100").json()
    assert integration_id in {item["integration_id"] for item in riverside["items"]}


def test_a_body_cannot_choose_the_tenant(scp: Scp) -> None:
    answer = scp.call("riverside-admin", "POST", INTEGRATIONS, {**registration(), "tenant_id": "harbour-health"})
    problem(answer, 400, "urn:scp:problem:validation-error")
