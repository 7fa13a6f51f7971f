"""The integration registry: a tenant's templates are its own, the platform's are everyone's;
instantiation checks `tenant_id`, never chooses by it, and makes a draft integration with a
draft contract from the template."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from core.unit_of_work import UnitOfWork
from models.scp.tables import Template
from tests.scp.conftest import INTEGRATIONS, Scp, contract_terms, problem

REGISTRY = f"{INTEGRATIONS}/registry"


def template_body(name: str, **changes: Any) -> dict[str, Any]:
    terms = {key: value for key, value in contract_terms().items() if key != "active_from"}
    return {
        "template_name": name,
        "partner_type": "ngo",
        "vertical_ids": ["health"],
        "contract_template": terms,
        **changes,
    }


def register(scp: Scp, client_id: str, name: str) -> str:
    answer = scp.call(client_id, "POST", REGISTRY, template_body(name))
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "active"
    return str(answer.json()["template_id"])


def listed(scp: Scp, client_id: str) -> dict[str, str]:
    page = scp.call(client_id, "GET", f"{REGISTRY}?limit=100").json()
    return {item["template_id"]: item["scope"] for item in page["items"]}


def test_who_sees_which_templates(scp: Scp) -> None:
    riverside = register(scp, "riverside-admin", "Riverside's own")
    platform = register(scp, "scp-platform", "Everyone's")
    assert listed(scp, "riverside-admin")[riverside] == "tenant"
    assert listed(scp, "riverside-admin")[platform] == "platform"
    assert riverside not in listed(scp, "harbour-admin")
    assert platform in listed(scp, "harbour-admin")
    assert riverside not in listed(scp, "scp-platform")


def test_instantiation_makes_a_draft_with_a_draft_contract(scp: Scp) -> None:
    template_id = register(scp, "riverside-admin", "Clinic referrals")
    body = {"tenant_id": "riverside-care", "integration_name": "Referrals", "partner_name": "St Mary's"}
    answer = scp.call("riverside-admin", "POST", f"{REGISTRY}/{template_id}/instantiate", body)
    assert answer.status_code == 201, answer.text
    made = answer.json()
    details = scp.get(made["integration_id"])
    assert (details["status"], details["template_id"], details["partner_type"]) == ("draft", template_id, "ngo")
    assert details["vertical_ids"] == ["health"]
    assert details["active_until"] is None
    (contract,) = details["contracts"]
    assert (contract["contract_id"], contract["status"]) == (made["contract_id"], "draft")
    assert contract["active_from"] == details["active_from"]


def test_a_tenant_instantiates_into_its_own_tenant_only(scp: Scp) -> None:
    template_id = register(scp, "scp-platform", "Payment switch")
    body = {"tenant_id": "harbour-health", "integration_name": "Switch", "partner_name": "Switch Ltd"}
    before = scp.call("riverside-admin", "GET", f"{INTEGRATIONS}?limit=1").json()["total"]
    refused = scp.call("riverside-admin", "POST", f"{REGISTRY}/{template_id}/instantiate", body)
    problem(refused, 403, "urn:scp:problem:tenant-mismatch")
    assert scp.call("riverside-admin", "GET", f"{INTEGRATIONS}?limit=1").json()["total"] == before
    assert scp.call("harbour-admin", "POST", f"{REGISTRY}/{template_id}/instantiate", body).status_code == 201


def test_the_platform_instantiates_into_the_tenant_named(scp: Scp) -> None:
    template_id = register(scp, "scp-platform", "Health exchange")
    body = {
        "tenant_id": "harbour-health",
        "integration_name": "Exchange",
        "partner_name": "HIE",
        "vertical_ids": ["nutrition"],
    }
    answer = scp.call("scp-platform", "POST", f"{REGISTRY}/{template_id}/instantiate", body)
    assert answer.status_code == 201, answer.text
    assert scp.get(answer.json()["integration_id"], "harbour-admin")["vertical_ids"] == ["nutrition"]
    problem(scp.call("riverside-admin", "GET", f"{INTEGRATIONS}/{answer.json()['integration_id']}"), 404)
    unknown = scp.call("scp-platform", "POST", f"{REGISTRY}/{template_id}/instantiate", {**body, "tenant_id": "nobody"})
    problem(unknown, 403, "urn:scp:problem:tenant-mismatch")


def test_a_tenants_template_is_not_the_platforms(scp: Scp) -> None:
    template_id = register(scp, "riverside-admin", "Private")
    body = {"tenant_id": "riverside-care", "integration_name": "x", "partner_name": "y"}
    problem(scp.call("scp-platform", "POST", f"{REGISTRY}/{template_id}/instantiate", body), 404)


def test_unknown_verticals_are_refused(scp: Scp) -> None:
    problem(
        scp.call("riverside-admin", "POST", REGISTRY, template_body("x", vertical_ids=["mars"])),
        422,
        "urn:scp:problem:unknown-vertical",
    )


def test_a_template_that_is_not_active_is_not_instantiated(scp: Scp) -> None:
    template_id = register(scp, "riverside-admin", "Retired")
    with UnitOfWork(scp.db, scp.settings) as unit:  # set by registry administration, outside the API
        unit.connection.execute(update(Template).where(Template.template_id == template_id).values(status="deprecated"))
        unit.commit()
    body = {"tenant_id": "riverside-care", "integration_name": "x", "partner_name": "y"}
    problem(
        scp.call("riverside-admin", "POST", f"{REGISTRY}/{template_id}/instantiate", body),
        409,
        "urn:scp:problem:template-not-active",
    )
