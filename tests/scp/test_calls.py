"""The API call log and the per-client rate limit: every call is logged, refusals included,
in a transaction of its own; every integration operation reports its client's quota, and
refuses past it with 429."""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select
from starlette.testclient import TestClient

from core.cli import main
from core.config import Settings
from core.factory import create_app
from core.unit_of_work import UnitOfWork
from models.scp.tables import AuditEntry
from tests.scp.conftest import INTEGRATIONS, Scp, contract_terms, problem, registration


def logged(scp: Scp, request_id: str) -> AuditEntry:
    with UnitOfWork(scp.db, scp.settings) as unit:
        entry = unit.session.scalars(select(AuditEntry).where(AuditEntry.request_id == request_id)).one()
        unit.session.expunge(entry)
        return entry


def test_a_call_is_logged_with_who_what_and_how_it_ended(scp: Scp) -> None:
    answer = scp.call("riverside-admin", "POST", INTEGRATIONS, registration())
    integration_id = answer.json()["integration_id"]
    entry = logged(scp, answer.headers["x-request-id"])
    assert (entry.tenant_id, entry.client_id, entry.operation) == (
        "riverside-care",
        "riverside-admin",
        "createIntegration",
    )
    assert (entry.status, entry.outcome, entry.reason, entry.method) == (201, "succeeded", None, "POST")
    update = scp.call("riverside-admin", "PATCH", f"{INTEGRATIONS}/{integration_id}", {"partner_name": "x"})
    assert logged(scp, update.headers["x-request-id"]).target == f"integration {integration_id}"


@pytest.mark.parametrize(
    ("who", "method", "path", "status", "reason"),
    [
        (None, "GET", INTEGRATIONS, 401, "about:blank: No authorization token provided"),
        ("riverside-governor", "POST", INTEGRATIONS, 403, "urn:scp:problem:insufficient-scope: "),
        ("riverside-admin", "GET", f"{INTEGRATIONS}/{uuid.UUID(int=0)}", 404, "about:blank: Integration "),
        ("riverside-admin", "GET", f"{INTEGRATIONS}?limit=0", 400, "urn:scp:problem:validation-error: "),
    ],
    ids=["no-token", "no-scope", "not-found", "invalid"],
)
def test_refusals_are_logged_too(scp: Scp, who: str | None, method: str, path: str, status: int, reason: str) -> None:
    headers = scp.auth(who) if who else {}
    answer = scp.client.request(method, path, headers=headers, json=registration() if method == "POST" else None)
    assert answer.status_code == status, answer.text
    entry = logged(scp, answer.headers["x-request-id"])
    assert (entry.status, entry.outcome) == (status, "refused")
    assert entry.reason is not None
    assert entry.reason.startswith(reason)
    assert entry.client_id == who


def test_a_token_request_is_logged_with_the_client_it_claims(scp: Scp) -> None:
    basic = scp.client.post(
        "/scp/oauth/token", data={"grant_type": "client_credentials"}, auth=("riverside-admin", "wrong")
    )
    entry = logged(scp, basic.headers["x-request-id"])
    assert (entry.operation, entry.client_id, entry.status) == ("issueToken", "riverside-admin", 401)
    assert entry.outcome == "refused"
    form = {
        "grant_type": "client_credentials",
        "client_id": "harbour-admin",
        "client_secret": scp.secrets["harbour-admin"],
    }
    in_body = scp.client.post("/scp/oauth/token", data=form)
    entry = logged(scp, in_body.headers["x-request-id"])
    assert (entry.client_id, entry.status, entry.outcome) == ("harbour-admin", 200, "succeeded")


def test_a_platform_instantiation_is_logged_in_the_tenant_it_acted_in(scp: Scp) -> None:
    terms = {key: value for key, value in contract_terms().items() if key != "active_from"}
    template = scp.call(
        "scp-platform",
        "POST",
        f"{INTEGRATIONS}/registry",
        {"template_name": "Logged", "partner_type": "ngo", "vertical_ids": ["health"], "contract_template": terms},
    ).json()["template_id"]
    body = {"tenant_id": "harbour-health", "integration_name": "x", "partner_name": "y"}
    answer = scp.call("scp-platform", "POST", f"{INTEGRATIONS}/registry/{template}/instantiate", body)
    entry = logged(scp, answer.headers["x-request-id"])
    assert (entry.tenant_id, entry.client_id, entry.status) == ("harbour-health", "scp-platform", 201)


def test_the_audit_command_reads_the_log(
    scp: Scp, database: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    scp.call("harbour-admin", "GET", f"{INTEGRATIONS}/forged%0Aline%09here")  # a path that tries to add a line
    answer = scp.call("harbour-admin", "GET", f"{INTEGRATIONS}/{uuid.UUID(int=1)}")
    monkeypatch.setenv("DATABASE_URL", database.database_url)
    monkeypatch.setenv("INSTANCE_DIR", str(database.instance_dir))
    assert main(["scp", "audit", "--tenant", "harbour-health", "--outcome", "refused", "--limit", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(len(line.split("\t")) == 11 for line in lines), lines
    assert any("forged\\x0aline\\x09here" in line for line in lines)
    request_id = answer.headers["x-request-id"]
    (line,) = [line for line in lines if request_id in line]
    fields = line.split("\t")
    assert fields[2:5] == ["harbour-health", "harbour-admin", "getIntegration"]
    assert fields[8:10] == ["404", "refused"]
    vertical = f"fisheries-{uuid.uuid4().hex[:6]}"
    assert main(["scp", "add-vertical", vertical, "--name", "Fisheries"]) == 0
    assert main(["scp", "list-verticals"]) == 0
    assert f"{vertical}\tFisheries" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="exists already"):
        main(["scp", "add-vertical", vertical, "--name", "Fisheries"])


@pytest.fixture
def limited(database: Settings) -> Iterator[TestClient]:
    """An app whose SCP clients may make 3 requests a minute each."""
    from handlers.scp.api import API

    scp = dataclasses.replace(API.config(database), rate_limit="3/minute")
    app = create_app(dataclasses.replace(database, rate_limits_enabled=True).with_api("scp", scp))
    with contextlib.ExitStack() as stack:
        yield stack.enter_context(app.test_client())


def test_each_client_has_its_own_budget(scp: Scp, limited: TestClient) -> None:
    mine, theirs = scp.new_client(), scp.new_client(tenant="harbour-health")
    refusals = REGISTRY.get_sample_value("partner_gateway_rate_limit_refusals_total", {"api": "scp"}) or 0.0
    answers = [limited.get(INTEGRATIONS, headers=scp.auth(mine)) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert REGISTRY.get_sample_value("partner_gateway_rate_limit_refusals_total", {"api": "scp"}) == refusals + 1
    assert [answer.headers["x-ratelimit-remaining"] for answer in answers] == ["2", "1", "0", "0"]
    for answer in answers:
        assert answer.headers["x-ratelimit-limit"] == "3"
        assert 0 <= int(answer.headers["x-ratelimit-reset"]) <= 60, "seconds until the window ends"
    refused = problem(answers[-1], 429, "urn:scp:problem:rate-limited")
    entry = logged(scp, answers[-1].headers["x-request-id"])
    assert (entry.client_id, entry.tenant_id, entry.outcome) == (mine, "riverside-care", "refused")
    assert 1 <= int(answers[-1].headers["retry-after"]) <= 60
    assert "3/minute" in refused["detail"]
    assert limited.get(INTEGRATIONS, headers=scp.auth(theirs)).status_code == 200
