"""Data contracts: draft, then active, then archived; each update a new immutable version of
the terms; windows checked against the stored start and the clock; the terms kept in the
form data exchange enforces them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.unit_of_work import UnitOfWork
from models.scp.contracts import ContractTerms
from models.scp.tables import ContractVersion
from tests.scp.conftest import INTEGRATIONS, Scp, contract_terms, problem


def path(integration_id: str, contract_id: str = "", action: str = "") -> str:
    base = f"{INTEGRATIONS}/{integration_id}/contracts"
    return "/".join(part for part in (base, contract_id, action) if part)


def contract_of(scp: Scp, integration_id: str, contract_id: str) -> dict[str, object]:
    return next(c for c in scp.get(integration_id)["contracts"] if c["contract_id"] == contract_id)


def test_a_contract_is_added_as_a_draft_with_its_terms_made_explicit(scp: Scp) -> None:
    integration_id = scp.create()
    fields = [
        {"field_name": "phone_number", "data_type": "string", "masking": "none"},
        {"field_name": "beneficiary_ref", "data_type": "string", "masking": "none"},
        {"field_name": "phone_number", "data_type": "string", "masking": "partial"},
    ]
    consents = [{"consent_code": "partner_data_sharing"}]
    answer = scp.call(
        "riverside-admin",
        "POST",
        path(integration_id),
        contract_terms(field_list=fields, consent_requirements=consents),
    )
    assert answer.status_code == 201, answer.text
    contract_id = answer.json()["contract_id"]
    assert answer.headers["location"] == path(integration_id, contract_id)
    contract = contract_of(scp, integration_id, contract_id)
    assert (contract["status"], contract["version_id"]) == ("draft", 1)
    assert contract["field_list"] == [
        {"field_name": "phone_number", "data_type": "string", "masking": "partial"},
        {"field_name": "beneficiary_ref", "data_type": "string", "masking": "none"},
    ], "a field named twice is its last entry"
    assert contract["consent_requirements"] == [{"consent_code": "partner_data_sharing", "on_missing": "omit_record"}]


def test_terms_as_exchange_reads_them() -> None:
    terms = ContractTerms.from_body(contract_terms())
    assert list(terms.fields) == ["beneficiary_ref", "phone_number", "national_id"]
    assert terms.shared_as_is() == ["beneficiary_ref"]
    (consent,) = terms.consents
    assert consent.covers("contact")
    assert not consent.covers("identity")


def test_updates_are_versions_and_the_lifecycle_runs_draft_active_archived(scp: Scp) -> None:
    integration_id = scp.create()
    contract_id = scp.add_contract(integration_id)
    first = scp.call("riverside-admin", "PATCH", path(integration_id, contract_id), {"purpose": "Top-ups too."})
    assert (first.status_code, first.json()["version_id"]) == (200, 2)
    activated = scp.call("riverside-governor", "POST", path(integration_id, contract_id, "activate"))
    assert (activated.status_code, activated.json()["status"]) == (200, "active")
    second = scp.call(
        "riverside-admin", "PATCH", path(integration_id, contract_id), {"active_until": "2098-01-01T00:00:00Z"}
    )
    assert (second.status_code, second.json()["version_id"]) == (200, 3), "an active contract takes updates"
    problem(
        scp.call("riverside-governor", "POST", path(integration_id, contract_id, "activate")),
        409,
        "urn:scp:problem:invalid-status-transition",
    )
    archived = scp.call(
        "riverside-governor", "POST", path(integration_id, contract_id, "archive"), {"reason_code": "CONTRACT_ENDED"}
    )
    assert (archived.status_code, archived.json()["status"]) == (200, "archived")
    problem(
        scp.call("riverside-admin", "PATCH", path(integration_id, contract_id), {"purpose": "Again."}),
        409,
        "urn:scp:problem:invalid-status-transition",
    )
    problem(
        scp.call(
            "riverside-governor",
            "POST",
            path(integration_id, contract_id, "archive"),
            {"reason_code": "OTHER", "reason_text": "x"},
        ),
        409,
        "urn:scp:problem:invalid-status-transition",
    )
    contract = contract_of(scp, integration_id, contract_id)
    assert (contract["purpose"], contract["active_until"], contract["version_id"]) == (
        "Top-ups too.",
        "2098-01-01T00:00:00Z",
        3,
    )
    with UnitOfWork(scp.db, scp.settings) as unit:
        versions = unit.session.scalars(
            select(ContractVersion)
            .where(ContractVersion.contract_id == contract_id)
            .order_by(ContractVersion.version_id)
        ).all()
        history = [(v.version_id, v.terms["purpose"], v.terms["active_until"]) for v in versions]
    assert history == [
        (1, "Pay cash transfers to enrolled households by mobile money.", None),
        (2, "Top-ups too.", None),
        (3, "Top-ups too.", "2098-01-01T00:00:00+00:00"),
    ]


@pytest.mark.parametrize(
    ("change", "status", "kind"),
    [
        ({"active_until": "2026-02-01T00:00:00Z"}, 409, "urn:scp:problem:invalid-active-window"),
        ({"active_until": "2026-06-01T00:00:00Z"}, 409, "urn:scp:problem:invalid-active-window"),
        ({"active_from": "2026-06-01T00:00:00Z"}, 400, "urn:scp:problem:validation-error"),
        ({"field_list": []}, 400, "urn:scp:problem:validation-error"),
        ({"field_list": [{"field_name": "a", "data_type": "string"}]}, 400, "urn:scp:problem:validation-error"),
    ],
    ids=["before-stored-start", "already-past", "start-is-fixed", "no-fields", "masking-required"],
)
def test_refused_updates_change_nothing(scp: Scp, change: dict[str, object], status: int, kind: str) -> None:
    integration_id = scp.create()
    contract_id = scp.add_contract(integration_id)
    before = contract_of(scp, integration_id, contract_id)
    problem(scp.call("riverside-admin", "PATCH", path(integration_id, contract_id), change), status, kind)
    assert contract_of(scp, integration_id, contract_id) == before


@pytest.mark.parametrize(
    ("window", "status", "kind"),
    [
        ({"active_until": "2026-03-01T00:00:00Z"}, 400, "urn:scp:problem:validation-error"),
        (
            {"active_from": "2020-01-01T00:00:00Z", "active_until": "2021-01-01T00:00:00Z"},
            409,
            "urn:scp:problem:invalid-active-window",
        ),
    ],
    ids=["ends-when-it-starts", "ended-already"],
)
def test_a_new_contracts_window(scp: Scp, window: dict[str, str], status: int, kind: str) -> None:
    integration_id = scp.create()
    problem(scp.call("riverside-admin", "POST", path(integration_id), contract_terms(**window)), status, kind)
    assert scp.get(integration_id)["contracts"] == []


def test_a_contract_of_another_integration_is_not_found(scp: Scp) -> None:
    one, other = scp.create(), scp.create()
    contract_id = scp.add_contract(one)
    problem(scp.call("riverside-admin", "PATCH", path(other, contract_id), {"purpose": "x"}), 404)
    problem(scp.call("riverside-governor", "POST", path(other, contract_id, "activate")), 404)


def test_governing_contracts_needs_the_govern_scope(scp: Scp) -> None:
    integration_id = scp.create()
    contract_id = scp.add_contract(integration_id)
    writer = scp.new_client(granted=frozenset({"contracts:write", "integrations:read"}))
    problem(
        scp.call(writer, "POST", path(integration_id, contract_id, "activate")),
        403,
        "urn:scp:problem:insufficient-scope",
    )
