"""`POST …/sessions/consume`: a hand-off's one-time code, minted by CPRAS for one client, works
once and for minutes; unknown, spent, expired and foreign codes get one and the same answer;
`next` is CPRAS's own path, built from the stored hand-off. On SQLite and PostgreSQL (where
two exchanges of one code at once are tried with threads)."""

from __future__ import annotations

import os
import re
import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from core.columns import utcnow
from core.config import Settings
from core.database import Database
from core.unit_of_work import UnitOfWork
from models.cpras import scopes
from models.cpras.clients import Clients
from models.cpras.handoffs import Handoffs

CONSUME = "/cpras/v1/partners/printplanr/sessions/consume"


def new_client(
    client: TestClient, cpras_db: Database, database: Settings, scope: str = scopes.SESSIONS_CONSUME
) -> tuple[str, str]:
    """A fresh client holding `scope`: its id and an access token."""
    client_id = f"sso-{uuid.uuid4().hex[:10]}"
    with UnitOfWork(cpras_db, database) as unit:
        secret = Clients(unit).create(client_id, "Test", {scope}).secret
        unit.commit()
    answer = client.post("/cpras/oauth/token", data={"client_id": client_id, "client_secret": secret, "scope": scope})
    return client_id, str(answer.json()["access_token"])


def minted(
    cpras_db: Database, database: Settings, client_id: str, lifetime: int = 120, at: Any = None
) -> tuple[str, str]:
    """A hand-off for `client_id` and its code: (code, state)."""
    with UnitOfWork(cpras_db, database) as unit:
        handoffs = Handoffs(unit)
        started = handoffs.start("buyer", "wdc.buyer", "browser-session", client_id, "proj_wdc_2025", "lot_1")
        code = handoffs.issue_code(started.handoff_id, lifetime, now=at)
        unit.commit()
    return code, started.state


def consume(client: TestClient, token: str, code: str) -> Any:
    return client.post(CONSUME, json={"code": code}, headers={"Authorization": f"Bearer {token}"})


def next_pattern(spec_dir: Any) -> str:
    spec = yaml.safe_load((spec_dir / "cpras.yaml").read_text())
    return str(spec["components"]["schemas"]["SessionConsumeResponse"]["properties"]["next"]["pattern"])


def test_a_code_works_once(client: TestClient, cpras_db: Database, database: Settings) -> None:
    client_id, token = new_client(client, cpras_db, database)
    code, state = minted(cpras_db, database, client_id)
    first = consume(client, token, code)
    assert first.status_code == 200, first.text
    assert first.json() == {
        "ok": True,
        "project_id": "proj_wdc_2025",
        "lot_id": "lot_1",
        "next": f"/cpras/print-orders/return?state={state}",
    }
    again = consume(client, token, code)
    assert again.status_code == 422
    assert again.json()["detail"] == "The session code is not valid."


def test_unknown_spent_expired_and_foreign_codes_answer_alike(
    client: TestClient, cpras_db: Database, database: Settings
) -> None:
    client_id, token = new_client(client, cpras_db, database)
    other_id, other_token = new_client(client, cpras_db, database)
    spent, _ = minted(cpras_db, database, client_id)
    assert consume(client, token, spent).status_code == 200
    expired, _ = minted(cpras_db, database, client_id, lifetime=120, at=utcnow() - timedelta(seconds=121))
    foreign, _ = minted(cpras_db, database, other_id)
    answers = [consume(client, token, code) for code in ("no-such-code", spent, expired, foreign)]
    assert {answer.status_code for answer in answers} == {422}
    assert len({(answer.text, answer.headers["content-type"]) for answer in answers}) == 1
    # A failed try spends nothing: the foreign code still works for its own client.
    assert consume(client, other_token, foreign).status_code == 200


def test_consume_needs_its_scope(client: TestClient, cpras_db: Database, database: Settings) -> None:
    client_id, token = new_client(client, cpras_db, database, scopes.WEBHOOKS_WRITE)
    code, _ = minted(cpras_db, database, client_id)
    assert consume(client, token, code).status_code == 403
    assert client.post(CONSUME, json={"code": code}).status_code == 401


def test_codes_carry_256_random_bits(cpras_db: Database, database: Settings) -> None:
    codes = {minted(cpras_db, database, "anyone")[0] for _ in range(5)}
    assert len(codes) == 5
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", code) for code in codes)


@pytest.mark.parametrize(
    "attempt",
    ["/\t/evil.com", "//evil.com", "/\\evil.com", "/\\/evil.com", "https://evil.com", "/ok\n/x", "/%0a", ""],
)
def test_next_can_never_name_another_site(spec_dir: Any, attempt: str) -> None:
    allowed = re.search(next_pattern(spec_dir), attempt) is not None
    assert allowed is (attempt == "/%0a")  # percent-encoded stays on CPRAS's origin


def test_next_is_built_from_the_stored_hand_off(
    client: TestClient, cpras_db: Database, database: Settings, spec_dir: Any
) -> None:
    client_id, token = new_client(client, cpras_db, database)
    code, _ = minted(cpras_db, database, client_id)
    answer = consume(client, token, code).json()
    assert re.search(next_pattern(spec_dir), answer["next"])


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"), reason="needs PostgreSQL")
def test_two_exchanges_at_once_spend_a_code_once(client: TestClient, cpras_db: Database, database: Settings) -> None:
    client_id, _ = new_client(client, cpras_db, database)
    code, _ = minted(cpras_db, database, client_id)
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def exchange() -> None:
        with UnitOfWork(cpras_db, database) as unit:
            barrier.wait()
            consumed = Handoffs(unit).consume(code, client_id)
            unit.commit()
        statuses.append(200 if consumed else 422)

    threads = [threading.Thread(target=exchange) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [422] * 7
