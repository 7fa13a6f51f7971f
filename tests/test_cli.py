"""`partner-gateway` commands: migrate, load demo data once, print demo credentials."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from core.cli import demo_credentials, load_demo, main, migrate
from core.config import Settings


def test_demo_credentials_work_against_the_api(settings: Settings, client: TestClient) -> None:
    credentials = demo_credentials(settings)["order_accept"]

    assert len(credentials) >= 2
    for identity in credentials.values():
        response = client.get("/order-accept/api/orders", headers={"Authorization": identity["authorization"]})
        assert response.status_code == 200
        assert response.json()["total"] >= 1, "demo customers have demo orders"


def test_demo_data_loads_only_into_an_empty_database(settings: Settings, tmp_path: Path) -> None:
    fresh = replace(settings, database_url=f"sqlite:///{tmp_path / 'fresh.db'}")
    migrate(fresh)

    assert load_demo(fresh) == ["order_accept", "idl", "mihwar", "cpras", "scp"]
    assert load_demo(fresh) == []


def test_the_command_prints_json(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("ORDER_ACCEPT_JWT_SECRET", raising=False)
    monkeypatch.delenv("IDL_JWT_SECRET", raising=False)
    assert main(["setup"]) == 0
    capsys.readouterr()

    assert main(["demo-credentials"]) == 0

    output = json.loads(capsys.readouterr().out)
    assert output["order_accept"]["alice"]["authorization"].startswith("Bearer ey")
    assert (tmp_path / "order_accept_jwt_secret").stat().st_mode & 0o777 == 0o600
    assert output["cpras"]["client_id"] == "printplanr-demo"
    assert output["cpras"]["authorization"].startswith("Bearer ey")
    assert (tmp_path / "cpras_token_keys.json").stat().st_mode & 0o777 == 0o600
    assert output["scp"]["riverside-admin"]["tenant_id"] == "riverside-care"
    assert output["scp"]["scp-platform"]["authorization"].startswith("Bearer ey")
    assert (tmp_path / "scp_token_keys.json").stat().st_mode & 0o777 == 0o600
