"""SCIM tokens: their format, how they are stored, who may have one, and the commands.

Here the token service that the SCIM operations' security verifier calls; how the
operations answer each kind of token is in test_scim_protocol.py.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import select

from core.api import Mounted
from core.cli import main
from core.config import Settings
from core.database import Database
from core.problems import Forbidden, Unauthorized
from core.unit_of_work import UnitOfWork
from handlers.mihwar.api import API, demo_credentials
from models.mihwar.demo import DEMO_ORGANIZATIONS, demo_scim_token
from models.mihwar.scim.tokens import TOKEN_FORMAT, ScimTokens
from models.mihwar.tables import ENTERPRISE, Organization, ScimToken
from tests.mihwar.conftest import Tenant


def organization_of(unit: UnitOfWork, tenant: Tenant) -> Organization:
    found = unit.session.get(Organization, tenant.id)
    assert found is not None
    return found


def test_a_token_is_scim_live_and_32_random_bytes_stored_only_as_a_hash(unit: UnitOfWork, tenant: Tenant) -> None:
    new = ScimTokens(unit).create(organization_of(unit, tenant), "Okta")
    unit.commit()

    assert TOKEN_FORMAT.fullmatch(new.secret)
    assert len(new.secret) == len("scim_live_") + 43
    assert new.token.secret_hash == hashlib.sha256(new.secret.encode()).hexdigest()
    assert new.token.prefix == new.secret[:14]
    stored = unit.connection.execute(select(ScimToken.__table__).where(ScimToken.id == new.token.id)).one()
    assert not any(new.secret in str(value) for value in stored)
    assert ScimTokens(unit).authenticate(new.secret).organization_id == tenant.id


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param("scim_live_short", id="malformed"),
        pytest.param("rn_live_" + "a" * 43, id="an-api-key"),
        pytest.param("scim_live_" + "A" * 43, id="unknown"),
    ],
)
def test_a_malformed_unknown_or_foreign_token_is_unauthorized(unit: UnitOfWork, secret: str) -> None:
    with pytest.raises(Unauthorized):
        ScimTokens(unit).authenticate(secret)


def test_an_api_key_is_no_scim_token(unit: UnitOfWork, tenant: Tenant) -> None:
    with pytest.raises(Unauthorized):
        ScimTokens(unit).authenticate(tenant.secret)


def test_a_revoked_token_is_unauthorized(unit: UnitOfWork, tenant: Tenant) -> None:
    tokens = ScimTokens(unit)
    new = tokens.create(organization_of(unit, tenant), "Entra ID")
    tokens.revoke(new.token.id)
    unit.commit()

    with pytest.raises(Unauthorized, match="revoked"):
        tokens.authenticate(new.secret)


def test_only_an_enterprise_organization_gets_one_and_a_downgraded_one_is_forbidden(
    unit: UnitOfWork, new_tenant: Callable[..., Tenant]
) -> None:
    standard = organization_of(unit, new_tenant(plan="STANDARD"))
    with pytest.raises(Forbidden):
        ScimTokens(unit).create(standard, "Okta")

    enterprise = organization_of(unit, new_tenant(plan=ENTERPRISE))
    new = ScimTokens(unit).create(enterprise, "Okta")
    enterprise.plan = "STANDARD"
    unit.commit()
    with pytest.raises(Forbidden):
        ScimTokens(unit).authenticate(new.secret)


def test_demo_credentials_give_the_enterprise_demo_a_working_token(
    database: Settings, mihwar_db: Database, unit: UnitOfWork
) -> None:
    credentials = demo_credentials(Mounted(API, database, mihwar_db))

    enterprise = next(demo for demo in DEMO_ORGANIZATIONS if demo.plan == ENTERPRISE)
    assert credentials[enterprise.slug]["scim"] == {"authorization": f"Bearer {demo_scim_token(enterprise.slug)}"}
    assert all("scim" not in credentials[demo.slug] for demo in DEMO_ORGANIZATIONS if demo.plan != ENTERPRISE)
    provisioner = ScimTokens(unit).authenticate(demo_scim_token(enterprise.slug))
    demo_org = unit.session.scalars(select(Organization).where(Organization.slug == enterprise.slug)).one()
    assert provisioner.organization_id == demo_org.id


class TestCommands:
    def run(self, monkeypatch: pytest.MonkeyPatch, database: Settings, *args: str) -> int:
        monkeypatch.setenv("INSTANCE_DIR", str(database.instance_dir))
        monkeypatch.setenv("DATABASE_URL", database.database_url)
        return main(["mihwar", *args])

    def test_create_prints_the_token_once_list_shows_it_and_revoke_refuses_it(
        self,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        database: Settings,
        unit: UnitOfWork,
    ) -> None:
        slug = f"cli-{uuid.uuid4().hex[:8]}"
        organization = ["create-organization", "--slug", slug, "--name", "CLI", "--plan", ENTERPRISE]
        assert self.run(monkeypatch, database, *organization) == 0
        capsys.readouterr()
        assert self.run(monkeypatch, database, "create-scim-token", "--org", slug, "--name", "Okta") == 0
        printed = capsys.readouterr()
        secret = printed.out.strip()
        assert TOKEN_FORMAT.fullmatch(secret), printed
        token = ScimTokens(unit).authenticate(secret)
        assert token.token_id in printed.err
        unit.commit()

        assert self.run(monkeypatch, database, "list-scim-tokens", "--org", slug) == 0
        listed = capsys.readouterr().out
        assert listed.split("\t")[:3] == [token.token_id, f"{secret[:14]}…", "Okta"]
        assert secret not in listed

        assert self.run(monkeypatch, database, "revoke-scim-token", token.token_id) == 0
        with pytest.raises(Unauthorized):
            ScimTokens(unit).authenticate(secret)

    def test_a_standard_organization_gets_no_token(self, monkeypatch: pytest.MonkeyPatch, database: Settings) -> None:
        slug = f"cli-{uuid.uuid4().hex[:8]}"
        self.run(monkeypatch, database, "create-organization", "--slug", slug, "--name", "CLI", "--plan", "STANDARD")

        with pytest.raises(SystemExit, match="Enterprise plan"):
            self.run(monkeypatch, database, "create-scim-token", "--org", slug)
