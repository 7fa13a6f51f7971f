"""`POST /scp/oauth/token`: SCP's scoped tokens from the core's token server, each bound to its
client's tenant; OAuth 2.0 errors with no-store; read-only scopes by default; tenants and
clients made by command. On SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from connexion.lifecycle import ConnexionRequest
from starlette.testclient import TestClient

from core.api import Mounted
from core.cli import main
from core.config import Settings
from core.database import Database
from core.unit_of_work import UnitOfWork
from handlers.scp.api import API, security
from models.scp import scopes
from models.scp.access import Caller
from models.scp.clients import Clients, Tenants
from models.scp.tables import ADMIN, PLATFORM

TOKEN = "/scp/oauth/token"


def new_client(
    scp_db: Database, database: Settings, *granted: str, tenant: str | None = "riverside-care"
) -> tuple[str, str]:
    client_id = f"scp-test-{uuid.uuid4().hex[:8]}"
    role = ADMIN if tenant else PLATFORM
    with UnitOfWork(scp_db, database) as unit:
        secret = Clients(unit).create_for(client_id, "Test", role, tenant, set(granted) or scopes.ALL).secret
        unit.commit()
    return client_id, secret


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def test_a_token_names_its_clients_tenant_and_role(client: TestClient, scp_db: Database, database: Settings) -> None:
    client_id, secret = new_client(scp_db, database)
    answer = client.post(
        TOKEN,
        data={"grant_type": "client_credentials", "scope": "integrations:write"},
        headers=basic(client_id, secret),
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 600, "integrations:write")
    claims = claims_of(body["access_token"])
    assert (claims["tenant_id"], claims["role"], claims["sub"]) == ("riverside-care", "admin", client_id)
    request = ConnexionRequest({"type": "http", "headers": []})
    verified = security(Mounted(API, database, scp_db))["scpOAuth2"](body["access_token"], request)
    assert isinstance(verified, Caller)
    assert verified.scopes == frozenset({"integrations:write"})
    assert (verified.tenant_id, verified.role, verified.client_id) == ("riverside-care", "admin", client_id)


def test_no_scope_asked_gets_the_read_only_ones(client: TestClient, scp_db: Database, database: Settings) -> None:
    client_id, secret = new_client(scp_db, database)
    answer = client.post(
        TOKEN, data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    )
    assert answer.status_code == 200, answer.text
    assert set(answer.json()["scope"].split()) == scopes.READ_ONLY


def test_a_platform_clients_token_has_no_tenant(client: TestClient, scp_db: Database, database: Settings) -> None:
    client_id, secret = new_client(scp_db, database, scopes.REGISTRY_READ, tenant=None)
    answer = client.post(TOKEN, data={"grant_type": "client_credentials"}, headers=basic(client_id, secret))
    claims = claims_of(answer.json()["access_token"])
    assert "tenant_id" not in claims
    assert claims["role"] == "platform"


def test_a_scope_not_held_is_invalid_scope(client: TestClient, scp_db: Database, database: Settings) -> None:
    client_id, secret = new_client(scp_db, database, scopes.INTEGRATIONS_READ)
    answer = client.post(
        TOKEN,
        data={"grant_type": "client_credentials", "scope": "integrations:govern"},
        headers=basic(client_id, secret),
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_scope"
    assert answer.headers["cache-control"] == "no-store"


def test_wrong_credentials_are_invalid_client_with_a_basic_challenge(
    client: TestClient, scp_db: Database, database: Settings
) -> None:
    client_id, _ = new_client(scp_db, database)
    answer = client.post(TOKEN, data={"grant_type": "client_credentials"}, headers=basic(client_id, "wrong"))
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    assert answer.headers["www-authenticate"] == 'Basic realm="scp"'


def test_a_json_body_is_not_what_rfc_6749_prescribes(client: TestClient) -> None:
    answer = client.post(TOKEN, json={"grant_type": "client_credentials"})
    assert answer.status_code == 415
    assert answer.json()["error"] == "invalid_request"
    assert answer.headers["cache-control"] == "no-store"


def test_a_disabled_client_is_refused_and_a_rotated_secret_replaces_the_old(
    client: TestClient, scp_db: Database, database: Settings
) -> None:
    client_id, secret = new_client(scp_db, database)
    with UnitOfWork(scp_db, database) as unit:
        rotated = Clients(unit).rotate(client_id).secret
        unit.commit()
    form = {"grant_type": "client_credentials"}
    assert client.post(TOKEN, data=form, headers=basic(client_id, secret)).status_code == 401
    assert client.post(TOKEN, data=form, headers=basic(client_id, rotated)).status_code == 200
    with UnitOfWork(scp_db, database) as unit:
        Clients(unit).disable(client_id)
        unit.commit()
    assert client.post(TOKEN, data=form, headers=basic(client_id, rotated)).status_code == 401


def test_clients_belong_to_a_known_tenant_or_are_platform_ones(scp_db: Database, database: Settings) -> None:
    with UnitOfWork(scp_db, database) as unit:
        clients = Clients(unit)
        with pytest.raises(Exception, match="No tenant"):
            clients.create_for("x-1", "X", ADMIN, "no-such-tenant", {scopes.INTEGRATIONS_READ})
        with pytest.raises(ValueError, match="platform client to none"):
            clients.create_for("x-2", "X", PLATFORM, "riverside-care", {scopes.INTEGRATIONS_READ})
        with pytest.raises(ValueError, match="unknown scopes"):
            clients.create_for("x-3", "X", ADMIN, "riverside-care", {"integrations:everything"})
        with pytest.raises(ValueError, match="tenant id"):
            Tenants(unit).create("Not A Tenant", "X")
        unit.rollback()


def test_the_commands_make_tenants_and_their_clients(
    database: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INSTANCE_DIR", str(database.instance_dir))
    monkeypatch.setenv("DATABASE_URL", database.database_url)
    tenant, client_id = f"t-{uuid.uuid4().hex[:8]}", f"cli-{uuid.uuid4().hex[:8]}"

    assert main(["scp", "create-tenant", tenant, "--name", "Test Tenant"]) == 0
    assert main(["scp", "create-client", "--id", client_id, "--tenant", tenant, "--scope", "integrations:read"]) == 0
    first = capsys.readouterr().out.strip()
    assert main(["scp", "rotate-client-secret", client_id]) == 0
    second = capsys.readouterr().out.strip()
    assert main(["scp", "enable-client", client_id]) == 0
    assert main(["scp", "list-clients"]) == 0
    listed = capsys.readouterr().out
    assert main(["scp", "list-tenants"]) == 0
    tenants = capsys.readouterr().out

    assert first != second
    assert f"{client_id}\tadmin\t{tenant}\tintegrations:read\tenabled" in listed
    assert f"{tenant}\tTest Tenant" in tenants
    with pytest.raises(SystemExit, match="No tenant"):
        main(["scp", "create-client", "--id", f"{client_id}-2", "--tenant", "no-such-tenant"])
