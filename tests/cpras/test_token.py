"""`POST /cpras/oauth/token` over HTTP: form and JSON bodies, credentials in the body or by
HTTP Basic, least-privilege scopes, RFC 6749 §5.2 errors with no-store and a Basic
challenge, unknown parameters and empty scopes, rotated and disabled clients, a rotated
signing key, and the limit on failed client authentications. On SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from core.api import Mounted, configure, registered
from core.cli import main
from core.config import Settings
from core.database import Database
from core.factory import create_app
from core.oauth import KeyRing
from core.unit_of_work import UnitOfWork
from handlers.cpras.api import API, security
from models.cpras import scopes
from models.cpras.clients import Clients

TOKEN = "/cpras/oauth/token"


@pytest.fixture
def client_secret(cpras_db: Database, database: Settings) -> tuple[str, str]:
    """A client of the test's own holding webhooks:write and supplier_context:read."""
    client_id = f"test-{uuid.uuid4().hex[:10]}"
    with UnitOfWork(cpras_db, database) as unit:
        new = Clients(unit).create(client_id, "Test", {scopes.WEBHOOKS_WRITE, scopes.SUPPLIER_CONTEXT_READ})
        unit.commit()
    return client_id, new.secret


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def kid_of(token: str) -> str:
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    return str(header["kid"])


def verified(database: Settings, cpras_db: Database, token: str) -> Any:
    return security(Mounted(API, database, cpras_db))["oauth2"](token, None)


def test_a_form_body_gets_a_short_lived_token_with_the_default_scope(
    client: TestClient, client_secret: tuple[str, str], database: Settings, cpras_db: Database
) -> None:
    client_id, secret = client_secret
    answer = client.post(
        TOKEN, data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    )

    assert answer.status_code == 200, answer.text
    assert (answer.headers["Cache-Control"], answer.headers["Pragma"]) == ("no-store", "no-cache")
    body = answer.json()
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 600, "webhooks:write")
    principal = verified(database, cpras_db, body["access_token"])
    assert (principal.subject, set(principal.scopes)) == (client_id, {"webhooks:write"})


def test_json_without_grant_type_and_http_basic_both_work(client: TestClient, client_secret: tuple[str, str]) -> None:
    client_id, secret = client_secret
    as_json = client.post(
        TOKEN, json={"client_id": client_id, "client_secret": secret, "scope": "supplier_context:read"}
    )
    assert (as_json.status_code, as_json.json()["scope"]) == (200, "supplier_context:read")

    by_basic = client.post(
        TOKEN,
        data={"grant_type": "client_credentials", "scope": "webhooks:write supplier_context:read"},
        headers=basic(client_id, secret),
    )
    assert (by_basic.status_code, by_basic.json()["scope"]) == (200, "supplier_context:read webhooks:write")


def test_unknown_parameters_are_ignored_and_an_empty_scope_is_none_given(
    client: TestClient, client_secret: tuple[str, str]
) -> None:
    client_id, secret = client_secret
    answer = client.post(
        TOKEN, data={"client_id": client_id, "client_secret": secret, "scope": "", "audience": "x", "resource": "y"}
    )
    assert (answer.status_code, answer.json()["scope"]) == (200, "webhooks:write")


def test_a_scope_the_client_does_not_hold_is_invalid_scope(client: TestClient, client_secret: tuple[str, str]) -> None:
    client_id, secret = client_secret
    answer = client.post(TOKEN, data={"client_id": client_id, "client_secret": secret, "scope": "sessions:consume"})
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_scope")
    assert answer.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("how", ["body", "basic", "nothing"])
def test_failed_client_authentication_is_invalid_client_with_a_basic_challenge(
    client: TestClient, client_secret: tuple[str, str], how: str
) -> None:
    client_id, _ = client_secret
    if how == "body":
        answer = client.post(TOKEN, data={"client_id": client_id, "client_secret": "wrong"})
    elif how == "basic":
        answer = client.post(TOKEN, data={"grant_type": "client_credentials"}, headers=basic(client_id, "wrong"))
    else:
        answer = client.post(TOKEN, data={"grant_type": "client_credentials"})
    assert (answer.status_code, answer.json()["error"]) == (401, "invalid_client")
    assert answer.headers["WWW-Authenticate"] == 'Basic realm="cpras"'
    assert answer.headers["Cache-Control"] == "no-store"


def test_other_grant_types_and_bad_bodies_answer_oauth_errors(
    client: TestClient, client_secret: tuple[str, str]
) -> None:
    client_id, secret = client_secret
    password = client.post(TOKEN, data={"grant_type": "password", "client_id": client_id, "client_secret": secret})
    assert (password.status_code, password.json()["error"]) == (400, "unsupported_grant_type")
    unreadable = client.post(TOKEN, content=b"{", headers={"Content-Type": "application/json"})
    assert (unreadable.status_code, unreadable.json()["error"]) == (400, "invalid_request")
    plain = client.post(TOKEN, content=b"x", headers={"Content-Type": "text/plain"})
    assert (plain.status_code, plain.json()["error"]) == (415, "invalid_request")
    assert plain.headers["Cache-Control"] == "no-store"


def test_a_rotated_secret_and_a_disabled_client_are_refused(
    client: TestClient, client_secret: tuple[str, str], cpras_db: Database, database: Settings
) -> None:
    client_id, old = client_secret
    with UnitOfWork(cpras_db, database) as unit:
        new = Clients(unit).rotate(client_id).secret
        unit.commit()
    assert client.post(TOKEN, data={"client_id": client_id, "client_secret": old}).status_code == 401
    assert client.post(TOKEN, data={"client_id": client_id, "client_secret": new}).status_code == 200

    with UnitOfWork(cpras_db, database) as unit:
        Clients(unit).disable(client_id)
        unit.commit()
    assert client.post(TOKEN, data={"client_id": client_id, "client_secret": new}).status_code == 401


def test_a_signing_key_rotation_keeps_tokens_already_issued(
    client: TestClient, client_secret: tuple[str, str], database: Settings, cpras_db: Database
) -> None:
    client_id, secret = client_secret
    before = client.post(TOKEN, data={"client_id": client_id, "client_secret": secret}).json()["access_token"]
    path = API.config(database).token_keys_file
    KeyRing.load(path).rotated().save(path)
    after = client.post(TOKEN, data={"client_id": client_id, "client_secret": secret}).json()["access_token"]

    assert verified(database, cpras_db, before).subject == client_id
    assert verified(database, cpras_db, after).subject == client_id
    assert kid_of(before) != kid_of(after)


@pytest.fixture
def limited(database: Settings, tmp_path: Path) -> Iterator[TestClient]:
    """The app with the limit on failed client authentications on (3 a minute)."""
    environ = {**database.environ, "RATE_LIMITS_DISABLED": "", "CPRAS_AUTH_FAILURE_RATE": "3/minute"}
    settings = Settings.from_env(environ)
    with create_app(configure(settings, registered())).test_client() as limited_client:
        yield limited_client


def test_failed_client_authentications_are_limited_per_client_and_per_address(
    limited: TestClient, client_secret: tuple[str, str]
) -> None:
    client_id, secret = client_secret
    for _ in range(3):
        assert limited.post(TOKEN, data={"client_id": client_id, "client_secret": "wrong"}).status_code == 401
    refused = limited.post(TOKEN, data={"client_id": client_id, "client_secret": secret})
    assert (refused.status_code, refused.json()["error"]) == (429, "temporarily_unavailable")
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["Cache-Control"] == "no-store"


def test_the_commands_make_rotate_disable_and_list_clients_and_rotate_the_signing_key(
    database: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INSTANCE_DIR", str(database.instance_dir))
    monkeypatch.setenv("DATABASE_URL", database.database_url)
    client_id = f"cli-{uuid.uuid4().hex[:8]}"
    keys = API.config(database).token_keys_file
    before = len(KeyRing.load(keys).keys)

    assert main(["cpras", "create-client", "--id", client_id, "--scope", "webhooks:write"]) == 0
    first = capsys.readouterr().out.strip()
    assert main(["cpras", "rotate-client-secret", client_id]) == 0
    second = capsys.readouterr().out.strip()
    assert main(["cpras", "disable-client", client_id]) == 0
    assert main(["cpras", "list-clients"]) == 0
    listed = capsys.readouterr().out
    assert main(["cpras", "rotate-signing-key", "--keep", "5"]) == 0

    assert first != second
    assert len(second) >= 43  # 32 random bytes
    assert f"{client_id}\tPrintPLANR\twebhooks:write\tdisabled" in listed
    assert first not in listed
    assert len(KeyRing.load(keys).keys) == min(before + 1, 5)
