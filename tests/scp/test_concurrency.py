"""Concurrent updates on PostgreSQL: PATCHes of one integration or contract from many workers
at once apply one after the other, so every one succeeds with its own version and none is
lost; concurrent lifecycle operations let exactly one through."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select

from core.unit_of_work import UnitOfWork
from models.scp.tables import ContractVersion, IntegrationVersion
from tests.scp.conftest import INTEGRATIONS, Scp
from tests.scp.test_exchanges import Exchanging, record

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgresql"), reason="needs PostgreSQL"
)
WORKERS = 8


def at_once(calls: list[Any]) -> list[Any]:
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def test_concurrent_patches_of_an_integration_lose_no_update(scp: Scp) -> None:
    integration_id = scp.create()
    verticals = ["social-protection", "livelihoods", "health", "education", "nutrition", "water-sanitation"]
    headers = scp.auth("riverside-admin")
    changes = [{"partner_name": f"Partner {n}"} for n in range(WORKERS // 2)] + [
        {"vertical_ids": [verticals[n % len(verticals)]], "integration_name": f"Name {n}"} for n in range(WORKERS // 2)
    ]

    def patch(change: dict[str, Any]) -> Any:
        return lambda: scp.client.patch(f"{INTEGRATIONS}/{integration_id}", json=change, headers=headers)

    answers = at_once([patch(change) for change in changes])
    assert [answer.status_code for answer in answers] == [200] * WORKERS, [answer.text for answer in answers]
    versions = sorted(answer.json()["version_id"] for answer in answers)
    assert versions == list(range(2, WORKERS + 2)), "each update its own version"
    with UnitOfWork(scp.db, scp.settings) as unit:
        history = unit.session.scalars(
            select(IntegrationVersion).where(IntegrationVersion.integration_id == integration_id)
        ).all()
        kept = {version.version_id: version.fields for version in history}
    assert sorted(kept) == list(range(1, WORKERS + 2))
    final = scp.get(integration_id)
    assert final["version_id"] == WORKERS + 1
    assert kept[WORKERS + 1]["partner_name"] == final["partner_name"]
    # Each version is the one before it with one request's change applied: nothing lost.
    for version in range(2, WORKERS + 2):
        before, after = kept[version - 1], kept[version]
        changed = {name for name in after if after[name] != before[name]}
        assert any(changed <= set(change) for change in changes), (version, changed)


def test_concurrent_patches_of_a_contract_lose_no_update(scp: Scp) -> None:
    integration_id = scp.create()
    contract_id = scp.add_contract(integration_id)
    headers = scp.auth("riverside-admin")
    path = f"{INTEGRATIONS}/{integration_id}/contracts/{contract_id}"
    answers = at_once(
        [lambda n=n: scp.client.patch(path, json={"purpose": f"Purpose {n}"}, headers=headers) for n in range(WORKERS)]
    )
    assert [answer.status_code for answer in answers] == [200] * WORKERS
    assert sorted(answer.json()["version_id"] for answer in answers) == list(range(2, WORKERS + 2))
    with UnitOfWork(scp.db, scp.settings) as unit:
        purposes = unit.session.scalars(
            select(ContractVersion.terms).where(ContractVersion.contract_id == contract_id)
        ).all()
    assert {terms["purpose"] for terms in purposes} >= {f"Purpose {n}" for n in range(WORKERS)}


def test_one_of_concurrent_activations_wins(scp: Scp) -> None:
    integration_id = scp.walked_to("approved")
    headers = scp.auth("riverside-governor")
    path = f"{INTEGRATIONS}/{integration_id}/activate"
    answers = at_once([lambda: scp.client.post(path, headers=headers) for _ in range(WORKERS)])
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] + [409] * (WORKERS - 1)
    (winner,) = [answer for answer in answers if answer.status_code == 200]
    assert "auth_client_secret" in winner.json(), "one client, issued once"


def test_concurrent_duplicate_pushes_make_one_exchange(scp: Scp) -> None:
    exchanging = Exchanging(scp)
    key = {"Idempotency-Key": f"burst-{exchanging.integration_id}"}
    answers = at_once([lambda: exchanging.push([record("Z-1")], **key) for _ in range(WORKERS)])
    assert {answer.status_code for answer in answers} <= {202, 409}
    accepted = {answer.json()["exchange_id"] for answer in answers if answer.status_code == 202}
    assert len(accepted) == 1, "every 202 is the one exchange"
    for busy in (answer for answer in answers if answer.status_code == 409):
        assert busy.json()["type"] == "urn:scp:problem:idempotency-key-in-use"
    assert [entry["exchange_id"] for entry in exchanging.log()] == list(accepted)
