"""API keys: their format, how they are stored, and 401 and 403 as the spec says; the commands."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update
from starlette.testclient import TestClient

from core.cli import main
from core.columns import aware, utcnow
from core.config import Settings
from core.unit_of_work import UnitOfWork
from models.mihwar.keys import KEY_FORMAT
from models.mihwar.tables import ApiKey, Organization
from tests.mihwar.conftest import BASE, Tenant, problem

ITEMS = f"{BASE}/inventory/items"


def test_a_key_is_rn_live_and_32_random_bytes_stored_only_as_a_hash(unit: UnitOfWork, tenant: Tenant) -> None:
    assert KEY_FORMAT.fullmatch(tenant.secret)
    assert len(tenant.secret) == len("rn_live_") + 43  # 32 bytes of URL-safe base64
    key = unit.session.get(ApiKey, tenant.key_id)
    assert key is not None
    assert key.secret_hash == hashlib.sha256(tenant.secret.encode()).hexdigest()
    assert key.prefix == tenant.secret[:12]
    stored = [
        str(value) for value in unit.connection.execute(select(ApiKey.__table__).where(ApiKey.id == key.id)).one()
    ]
    assert not any(tenant.secret in value for value in stored)


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="missing"),
        pytest.param("Bearer", id="empty"),
        pytest.param("Basic dXNlcjpwYXNz", id="other-scheme"),
        pytest.param("Bearer rn_live_short", id="malformed"),
        pytest.param("Bearer scim_live_" + "a" * 43, id="a-scim-token"),
        pytest.param("Bearer rn_live_" + "A" * 43, id="unknown"),
    ],
)
def test_a_missing_malformed_or_unknown_key_answers_401(client: TestClient, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    response = client.get(ITEMS, headers=headers)

    assert response.status_code == 401
    assert problem(response)["title"] == "Unauthorized"
    assert response.headers["www-authenticate"].startswith('Bearer realm="mihwar"')


def test_a_revoked_key_answers_401_from_the_next_request_on(
    client: TestClient, unit: UnitOfWork, tenant: Tenant
) -> None:
    assert client.get(ITEMS, headers=tenant.headers).status_code == 200

    unit.connection.execute(update(ApiKey).where(ApiKey.id == tenant.key_id).values(revoked_at=utcnow()))
    unit.commit()
    response = client.get(ITEMS, headers=tenant.headers)

    assert response.status_code == 401
    assert problem(response)["detail"] == "This API key has been revoked."


def test_an_organization_without_api_access_answers_403(client: TestClient, new_tenant: Callable[..., Tenant]) -> None:
    closed = new_tenant(api_access=False)

    response = client.get(ITEMS, headers=closed.headers)

    assert response.status_code == 403
    assert problem(response)["detail"] == "Integrations are not enabled for this organization."


def test_the_plan_does_not_matter_to_the_integrations_api(
    client: TestClient, new_tenant: Callable[..., Tenant]
) -> None:
    assert client.get(ITEMS, headers=new_tenant(plan="STANDARD").headers).status_code == 200


def test_last_used_at_is_kept_without_a_write_per_request(client: TestClient, unit: UnitOfWork, tenant: Tenant) -> None:
    def last_used() -> datetime | None:
        unit.session.expire_all()
        key = unit.session.get(ApiKey, tenant.key_id)
        assert key is not None
        return key.last_used_at

    assert last_used() is None
    client.get(ITEMS, headers=tenant.headers)
    first = last_used()
    assert first is not None
    assert utcnow() - aware(first) < timedelta(minutes=1)
    client.get(ITEMS, headers=tenant.headers)
    assert last_used() == first  # within the same minute: not written again


class TestCommands:
    def run(self, monkeypatch: pytest.MonkeyPatch, database: Settings, *args: str) -> int:
        monkeypatch.setenv("INSTANCE_DIR", str(database.instance_dir))
        monkeypatch.setenv("DATABASE_URL", database.database_url)
        return main(["mihwar", *args])

    def test_create_key_prints_the_secret_once_and_revoke_refuses_it(
        self,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        database: Settings,
        client: TestClient,
        unit: UnitOfWork,
    ) -> None:
        slug = f"cli-{uuid.uuid4().hex[:8]}"
        assert self.run(monkeypatch, database, "create-organization", "--slug", slug, "--name", "CLI Org") == 0
        capsys.readouterr()
        assert self.run(monkeypatch, database, "create-api-key", "--org", slug, "--name", "ERP") == 0
        printed = capsys.readouterr()
        secret = printed.out.strip()
        assert KEY_FORMAT.fullmatch(secret), printed
        assert client.get(ITEMS, headers={"Authorization": f"Bearer {secret}"}).status_code == 200

        organization = unit.session.scalar(select(Organization).where(Organization.slug == slug))
        assert organization is not None
        key = unit.session.scalar(select(ApiKey).where(ApiKey.organization_id == organization.id))
        assert key is not None
        assert key.id in printed.err
        assert self.run(monkeypatch, database, "list-api-keys", "--org", slug) == 0
        listed = capsys.readouterr().out
        assert [key.id, f"{key.prefix}…", "ERP"] == listed.split("\t")[:3]
        assert "active" in listed
        assert secret not in listed

        assert self.run(monkeypatch, database, "revoke-api-key", key.id) == 0
        assert client.get(ITEMS, headers={"Authorization": f"Bearer {secret}"}).status_code == 401

    def test_an_unknown_organization_ends_the_command_with_its_reason(
        self, monkeypatch: pytest.MonkeyPatch, database: Settings
    ) -> None:
        with pytest.raises(SystemExit, match="No organization 'nowhere'"):
            self.run(monkeypatch, database, "create-api-key", "--org", "nowhere")
