"""The integration lifecycle, walked through the API: every operation from every status,
allowed or refused exactly as the state table says, actor by actor; the reason codes, the
timestamps, separation of duties, and the integration's own client, which follows its
integration's status and never governs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from core.columns import utcnow
from core.unit_of_work import UnitOfWork
from models.scp.clients import Clients
from models.scp.lifecycle import STATUSES, TRANSITIONS, exchange_directions
from models.scp.tables import Integration
from tests.scp.conftest import INTEGRATIONS, TOKEN, Scp, problem

CASES = [(operation, status) for operation in TRANSITIONS for status in STATUSES]


@pytest.mark.parametrize(("operation", "status"), CASES, ids=[f"{op}-from-{status}" for op, status in CASES])
def test_every_operation_from_every_status(scp: Scp, operation: str, status: str) -> None:
    transition = TRANSITIONS[operation]
    integration_id = scp.walked_to(status)
    actor = "riverside-admin" if operation == "request-review" else "riverside-governor"
    answer = scp.move(actor, integration_id, operation)
    after = scp.get(integration_id)
    if status in transition.sources:
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["integration_id"], body["status"]) == (integration_id, transition.target)
        assert body[transition.stamp] == after[transition.stamp] is not None
        assert after["status"] == transition.target
    else:
        detail = problem(answer, 409, "urn:scp:problem:invalid-status-transition")["detail"]
        assert f"in status {status}" in detail
        assert after["status"] == status, "a refused transition changes nothing"


def test_the_reasons_and_who_gave_them_are_kept(scp: Scp) -> None:
    integration_id = scp.walked_to("active")
    answer = scp.move(
        "riverside-governor", integration_id, "suspend", {"reason_code": "OTHER", "reason_text": "Partner audit."}
    )
    assert answer.status_code == 200, answer.text
    details = scp.get(integration_id)
    assert details["last_status_reason"]["reason_code"] == "OTHER"
    assert details["last_status_reason"]["reason_text"] == "Partner audit."
    assert details["last_status_reason"]["recorded_at"] == details["suspended_at"]
    assert details["review_notes"] == "Field list checked against the data-sharing agreement."
    for stamp in ("requested_at", "reviewed_at", "approved_at", "activated_at", "suspended_at"):
        assert details[stamp] is not None
    assert details["restricted_at"] is details["deprecated_at"] is details["archived_at"] is None


@pytest.mark.parametrize(
    ("operation", "body", "field"),
    [
        ("request-review", {"request_reason_code": "OTHER"}, "body.request_reason_text"),
        ("restrict", {"reason_code": "OTHER"}, "body.reason_text"),
        ("archive", {"reason_code": "OTHER"}, "body.reason_text"),
    ],
)
def test_other_needs_a_reason_text(scp: Scp, operation: str, body: dict[str, str], field: str) -> None:
    integration_id = scp.walked_to("active" if operation == "restrict" else "draft")
    actor = "riverside-admin" if operation == "request-review" else "riverside-governor"
    error = problem(scp.move(actor, integration_id, operation, body), 400, "urn:scp:problem:validation-error")
    code = field.removeprefix("body.").replace("_text", "_code")
    assert error["errors"] == [{"field": field, "message": f"{field[5:]} is required when {code} is OTHER."}]


@pytest.mark.parametrize("operation", ["review", "approve"])
def test_the_requester_neither_reviews_nor_approves(scp: Scp, operation: str) -> None:
    integration_id = scp.walked_to("requested" if operation == "review" else "reviewed")
    refused = scp.move("riverside-admin", integration_id, operation)
    problem(refused, 403, "urn:scp:problem:separation-of-duties")
    assert scp.get(integration_id)["status"] == ("requested" if operation == "review" else "reviewed")


def test_governing_needs_the_govern_scope(scp: Scp) -> None:
    integration_id = scp.walked_to("requested")
    writer = scp.new_client(granted=frozenset({"integrations:read", "integrations:write"}))
    refused = scp.move(writer, integration_id, "review")
    problem(refused, 403, "urn:scp:problem:insufficient-scope")
    assert 'scope="integrations:govern"' in refused.headers["www-authenticate"]


def test_a_platform_client_acts_on_the_registry_only(scp: Scp) -> None:
    answer = scp.call("scp-platform", "POST", INTEGRATIONS, {"integration_name": "x"})
    assert answer.status_code in (400, 403)
    listing = scp.client.get(INTEGRATIONS, headers={"Authorization": f"Bearer {scp.token('scp-platform')}"})
    problem(listing, 403, "urn:scp:problem:insufficient-scope")


def integration_token(scp: Scp, client_id: str, secret: str) -> str:
    answer = scp.client.post(TOKEN, data={"grant_type": "client_credentials"}, auth=(client_id, secret))
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def test_activation_issues_the_integrations_own_client_once(scp: Scp) -> None:
    integration_id = scp.walked_to("approved")
    first = scp.move("riverside-governor", integration_id, "activate", None)
    assert first.status_code == 200, first.text
    client_id, secret = first.json()["auth_client_id"], first.json()["auth_client_secret"]
    assert scp.get(integration_id)["auth_client_id"] == client_id
    token = integration_token(scp, client_id, secret)
    mine = {"Authorization": f"Bearer {token}"}
    assert scp.client.get(f"{INTEGRATIONS}/{integration_id}", headers=mine).status_code == 200
    listed = scp.client.get(INTEGRATIONS, headers=mine).json()
    assert [item["integration_id"] for item in listed["items"]] == [integration_id]
    other = scp.walked_to("active")
    problem(scp.client.get(f"{INTEGRATIONS}/{other}", headers=mine), 404)

    # It may never govern, write or use the registry, whatever it holds.
    for method, path in (
        ("POST", f"{INTEGRATIONS}/{integration_id}/suspend"),
        ("PATCH", f"{INTEGRATIONS}/{integration_id}"),
        ("POST", INTEGRATIONS),
        ("GET", f"{INTEGRATIONS}/registry"),
    ):
        assert scp.client.request(method, path, headers=mine, json={}).status_code in (400, 403)
    problem(
        scp.client.post(
            f"{INTEGRATIONS}/{integration_id}/suspend", headers=mine, json={"reason_code": "OTHER", "reason_text": "x"}
        ),
        403,
        "urn:scp:problem:insufficient-scope",
    )

    # Suspended, its tokens stop working and it gets no new one; activated again, both work.
    assert scp.move("riverside-governor", integration_id, "suspend").status_code == 200
    problem(scp.client.get(f"{INTEGRATIONS}/{integration_id}", headers=mine), 401)
    refused = scp.client.post(TOKEN, data={"grant_type": "client_credentials"}, auth=(client_id, secret))
    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")
    again = scp.move("riverside-governor", integration_id, "activate", None)
    assert again.status_code == 200, again.text
    assert again.json()["auth_client_id"] == client_id
    assert "auth_client_secret" not in again.json()
    assert scp.client.get(f"{INTEGRATIONS}/{integration_id}", headers=mine).status_code == 200
    integration_token(scp, client_id, secret)


def test_a_replayed_activation_never_repeats_the_secret(scp: Scp) -> None:
    integration_id = scp.walked_to("approved")
    path = f"{INTEGRATIONS}/{integration_id}/activate"
    headers = {**scp.auth("riverside-governor"), "Idempotency-Key": f"activate-{integration_id}"}
    first = scp.client.post(path, headers=headers)
    replay = scp.client.post(path, headers=headers)
    assert first.status_code == replay.status_code == 200
    assert "auth_client_secret" in first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == {key: value for key, value in first.json().items() if key != "auth_client_secret"}


@pytest.mark.parametrize(
    ("before", "directions"),
    [("active", ["push", "pull"]), ("restricted", ["push"]), ("suspended", [])],
)
def test_deprecation_keeps_the_exchange_it_had_and_never_more(scp: Scp, before: str, directions: list[str]) -> None:
    integration_id = scp.walked_to(before)
    assert scp.move("riverside-governor", integration_id, "deprecate").status_code == 200
    details = scp.get(integration_id)
    assert (details["status"], details["exchange_directions"]) == ("deprecated", directions)
    problem(
        scp.move("riverside-governor", integration_id, "activate", None),
        409,
        "urn:scp:problem:invalid-status-transition",
    )


def test_exchange_directions_by_status() -> None:
    assert exchange_directions("active", None) == ("push", "pull")
    assert exchange_directions("restricted", None) == ("push",)
    for status in ("draft", "requested", "reviewed", "approved", "suspended", "archived"):
        assert exchange_directions(status, None) == ()


def test_an_ended_window_cannot_be_activated(scp: Scp) -> None:
    integration_id = scp.walked_to("approved")
    with UnitOfWork(scp.db, scp.settings) as unit:
        unit.connection.execute(
            update(Integration)
            .where(Integration.integration_id == integration_id)
            .values(active_until=utcnow() - timedelta(minutes=1))
        )
        unit.commit()
    problem(
        scp.move("riverside-governor", integration_id, "activate", None), 409, "urn:scp:problem:invalid-active-window"
    )
    assert scp.get(integration_id)["status"] == "approved"


def test_archiving_archives_the_contracts_and_freezes_the_integration(scp: Scp) -> None:
    integration_id = scp.walked_to("active")
    contract_id = scp.add_contract(integration_id)
    assert scp.move("riverside-governor", integration_id, "archive").status_code == 200
    details = scp.get(integration_id)
    assert [(c["contract_id"], c["status"]) for c in details["contracts"]] == [(contract_id, "archived")]
    archived = "urn:scp:problem:invalid-status-transition"
    edited = scp.call("riverside-admin", "PATCH", f"{INTEGRATIONS}/{integration_id}", {"partner_name": "New"})
    assert "is archived" in problem(edited, 409, archived)["detail"]
    problem(
        scp.call("riverside-admin", "POST", f"{INTEGRATIONS}/{integration_id}/contracts", TERMS_BODY), 409, archived
    )
    contract = f"{INTEGRATIONS}/{integration_id}/contracts/{contract_id}"
    problem(scp.call("riverside-admin", "PATCH", contract, {"purpose": "Again."}), 409, archived)
    problem(scp.call("riverside-governor", "POST", f"{contract}/activate"), 409, archived)


TERMS_BODY = {
    "purpose": "x",
    "data_categories": ["contact"],
    "field_list": [{"field_name": "a", "data_type": "string", "masking": "none"}],
    "consent_requirements": [],
    "active_from": "2026-03-01T00:00:00Z",
}


def test_a_move_that_changes_no_exchange_leaves_an_operators_disabling_alone(scp: Scp) -> None:
    integration_id = scp.walked_to("active")
    client_id = scp.get(integration_id)["auth_client_id"]
    with UnitOfWork(scp.db, scp.settings) as unit:  # `partner-gateway scp disable-client`: a leaked secret
        Clients(unit).disable(client_id)
        unit.commit()
    assert scp.move("riverside-governor", integration_id, "restrict").status_code == 200
    assert scp.move("riverside-governor", integration_id, "activate", None).status_code == 200
    with UnitOfWork(scp.db, scp.settings) as unit:
        assert Clients(unit).find(client_id) is None, "still disabled"
