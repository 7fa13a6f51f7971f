"""Login, token refresh with rotation, logout, and how every operation treats a token."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from joserfc import jwt
from joserfc.jwk import OctKey
from sqlalchemy import Engine, event
from starlette.testclient import TestClient

from core.config import PROJECT_ROOT, JWTSettings, Settings
from core.jwt_bearer import JWTVerifier, issue_token
from core.unit_of_work import UnitOfWork
from handlers.order_accept.api import API as ORDER_ACCEPT
from models.idl.demo import quote_pdf
from models.idl.tables import User
from tests.idl.conftest import BASE, Headers, assert_error, idl_of

DEMO_PASSWORDS = {
    "foreman": "foreman-demo-2026",
    "super": "super-demo-2026",
    "pm": "pm-demo-2026",
    "admin": "admin-demo-2026",
}
HTTP_METHODS = ("get", "put", "post", "delete", "patch")


def login(client: TestClient, email: str, password: str) -> Any:
    return client.post(f"{BASE}/auth/login", json={"email": email, "password": password})


def logged_in(client: TestClient, role: str = "foreman") -> dict[str, Any]:
    response = login(client, f"{role}@idl.example", DEMO_PASSWORDS[role])
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}


def refresh(client: TestClient, refresh_token: str) -> Any:
    return client.post(f"{BASE}/auth/refresh", json={"refresh_token": refresh_token})


def me(client: TestClient, headers: Headers) -> Any:
    return client.get(f"{BASE}/users/me", headers=headers)


def audit_entries(client: TestClient, admin: Headers, **filters: Any) -> list[dict[str, Any]]:
    response = client.get(f"{BASE}/audit-logs", params={"limit": 100, **filters}, headers=admin)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["data"]
    return entries


def deactivate(unit: UnitOfWork, user_id: int) -> None:
    stored = unit.session.get(User, user_id)
    assert stored is not None
    stored.active = False
    unit.commit()


# --- login -----------------------------------------------------------------------------------


class TestLogin:
    def test_demo_credentials_return_tokens_and_the_users_profile(self, client: TestClient) -> None:
        response = login(client, "pm@idl.example", "pm-demo-2026")

        assert response.status_code == 200, response.text
        body = response.json()
        assert body["access_token"]
        assert body["refresh_token"]
        assert body["access_token"] != body["refresh_token"]
        assert body["expires_in"] == 900
        user = body["user"]
        assert isinstance(user["id"], int)
        assert uuid.UUID(user["uuid"])
        assert user["email"] == "pm@idl.example"
        assert user["name"] == "Paula Manager"
        assert user["role"] == "pm"
        assert user["authorization_limit"] == 100000.0
        assert user["permissions"] == ["po:create", "po:submit", "po:approve"]
        assert user["project_ids"] == ["PRJ001", "PRJ002", "PRJ003"]
        assert "password_hash" not in user
        assert response.headers["cache-control"] == "no-store"
        for header in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "x-request-id"):
            assert header in response.headers

    def test_the_access_token_carries_the_users_claims_for_fifteen_minutes(
        self, client: TestClient, settings: Settings
    ) -> None:
        body = logged_in(client, "foreman")
        assert idl_of(settings).jwt.secret is not None

        claims = jwt.decode(body["access_token"], OctKey.import_key(str(idl_of(settings).jwt.secret))).claims

        assert claims["sub"] == str(body["user"]["id"])
        assert claims["role"] == "foreman"
        assert claims["permissions"] == ["po:create", "po:submit"]
        assert claims["jti"]
        assert claims["sid"]
        assert claims["exp"] - claims["iat"] == 900
        assert abs(claims["iat"] - datetime.now(UTC).timestamp()) < 60

    def test_two_logins_start_two_sessions_with_distinct_tokens(self, client: TestClient, settings: Settings) -> None:
        assert idl_of(settings).jwt.secret is not None
        key = OctKey.import_key(str(idl_of(settings).jwt.secret))
        first, second = logged_in(client, "super"), logged_in(client, "super")

        first_claims = jwt.decode(first["access_token"], key).claims
        second_claims = jwt.decode(second["access_token"], key).claims

        assert first_claims["sid"] != second_claims["sid"]
        assert first_claims["jti"] != second_claims["jti"]
        assert first["refresh_token"] != second["refresh_token"]

    def test_the_email_is_case_insensitive(self, client: TestClient) -> None:
        response = login(client, "Foreman@IDL.Example", "foreman-demo-2026")

        assert response.status_code == 200, response.text
        assert response.json()["user"]["email"] == "foreman@idl.example"

    def test_the_token_from_a_login_works_on_the_api(self, client: TestClient) -> None:
        body = logged_in(client, "admin")

        response = me(client, bearer(body["access_token"]))

        assert response.status_code == 200, response.text
        assert response.json()["id"] == body["user"]["id"]
        assert response.json()["email"] == "admin@idl.example"

    @pytest.mark.parametrize(
        ("email", "password"),
        [
            pytest.param("foreman@idl.example", "not-the-password", id="wrong-password"),
            pytest.param("FOREMAN@idl.example", "Foreman-demo-2026", id="password-is-case-sensitive"),
            pytest.param("nobody@idl.example", "foreman-demo-2026", id="unknown-email"),
            pytest.param("retired@idl.example", "retired-demo-2026", id="inactive-user"),
        ],
    )
    def test_bad_credentials_answer_401_without_saying_which_was_wrong(
        self, client: TestClient, email: str, password: str
    ) -> None:
        response = login(client, email, password)

        error = assert_error(response, 401, "UNAUTHORIZED")
        assert error["message"] == "Invalid email or password"
        assert "access_token" not in response.text
        assert response.headers["www-authenticate"].startswith("Bearer")

    def test_a_failed_login_does_not_start_a_session_or_write_a_login_entry(
        self, client: TestClient, login_as: Callable[[str], Headers]
    ) -> None:
        admin = login_as("admin")
        before = audit_entries(client, admin, entity_type="user", action="login")

        assert login(client, "pm@idl.example", "wrong-password-123").status_code == 401

        after = audit_entries(client, admin, entity_type="user", action="login")
        assert [entry["id"] for entry in after] == [entry["id"] for entry in before]

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param({}, id="empty"),
            pytest.param({"email": "foreman@idl.example"}, id="no-password"),
            pytest.param({"password": "foreman-demo-2026"}, id="no-email"),
            pytest.param({"email": "not-an-email", "password": "foreman-demo-2026"}, id="not-an-email"),
            pytest.param({"email": "foreman@idl.example", "password": ""}, id="empty-password"),
            pytest.param({"email": 42, "password": "foreman-demo-2026"}, id="email-not-a-string"),
            pytest.param(
                {"email": "foreman@idl.example", "password": "foreman-demo-2026", "remember": True}, id="extra-field"
            ),
            pytest.param([], id="not-an-object"),
        ],
    )
    def test_a_malformed_body_answers_400(self, client: TestClient, body: Any) -> None:
        response = client.post(f"{BASE}/auth/login", json=body)

        error = assert_error(response, 400, "VALIDATION_ERROR")
        assert error["message"]

    def test_a_login_without_credentials_names_each_missing_field_once(self, client: TestClient) -> None:
        response = client.post(f"{BASE}/auth/login", json={})

        error = assert_error(response, 400, "VALIDATION_ERROR")
        errors = error["details"]["errors"]
        assert set(errors) == {"email", "password"}
        assert error["details"]["field"] in errors
        for field, messages in errors.items():
            assert len(messages) == len(set(messages)) == 1, f"{field}: {messages}"

    @pytest.mark.parametrize(
        ("path", "content"),
        [
            pytest.param(
                "/auth/login", b'{"email": "foreman@idl.example", "password": "foreman-demo-2026"}', id="login"
            ),
            pytest.param("/auth/refresh", b'{"refresh_token": "not-a-refresh-token"}', id="refresh"),
        ],
    )
    def test_a_json_body_sent_without_a_content_type_answers_415(
        self, client: TestClient, path: str, content: bytes
    ) -> None:
        response = client.post(f"{BASE}{path}", content=content)

        assert_error(response, 415, "VALIDATION_ERROR")

    def test_a_body_that_is_not_json_answers_400_or_415(self, client: TestClient) -> None:
        invalid_json = client.post(
            f"{BASE}/auth/login", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        form = client.post(f"{BASE}/auth/login", data={"email": "foreman@idl.example", "password": "x"})

        assert_error(invalid_json, 400, "VALIDATION_ERROR")
        assert_error(form, 415, "VALIDATION_ERROR")

    def test_a_login_records_when_the_user_last_logged_in(self, client: TestClient) -> None:
        started = datetime.now(UTC) - timedelta(seconds=5)
        body = logged_in(client, "super")

        last_login = me(client, bearer(body["access_token"])).json()["last_login"]

        assert last_login is not None
        assert datetime.fromisoformat(last_login.replace("Z", "+00:00")) >= started

    def test_a_user_who_never_logged_in_has_no_last_login(
        self, client: TestClient, make_user: Callable[..., tuple[User, Headers]]
    ) -> None:
        _, headers = make_user("foreman")

        assert me(client, headers).json()["last_login"] is None

    def test_a_login_is_written_to_the_audit_trail(
        self, client: TestClient, login_as: Callable[[str], Headers]
    ) -> None:
        body = logged_in(client, "pm")
        user_id = body["user"]["id"]

        entries = audit_entries(client, login_as("admin"), entity_type="user", action="login", user_id=user_id)

        latest = entries[0]
        assert latest["entity_type"] == "user"
        assert latest["entity_id"] == str(user_id)
        assert latest["action"] == "login"
        assert latest["user"] == {"id": user_id, "name": "Paula Manager", "role": "pm"}
        assert latest["old_values"] is None
        assert latest["ip_address"]
        assert datetime.fromisoformat(latest["created_at"].replace("Z", "+00:00")) > datetime.now(UTC) - timedelta(
            minutes=1
        )


# --- refresh ---------------------------------------------------------------------------------


class TestRefresh:
    def test_a_refresh_token_buys_a_new_pair_of_tokens(self, client: TestClient, settings: Settings) -> None:
        first = logged_in(client)

        response = refresh(client, first["refresh_token"])

        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"access_token", "refresh_token", "expires_in"}
        assert body["expires_in"] == 900
        assert body["access_token"] != first["access_token"]
        assert body["refresh_token"] != first["refresh_token"]
        assert response.headers["cache-control"] == "no-store"
        assert idl_of(settings).jwt.secret is not None
        key = OctKey.import_key(str(idl_of(settings).jwt.secret))
        old_claims = jwt.decode(first["access_token"], key).claims
        new_claims = jwt.decode(body["access_token"], key).claims
        assert new_claims["sid"] == old_claims["sid"], "a refresh continues the same session"
        assert new_claims["sub"] == old_claims["sub"]
        assert new_claims["jti"] != old_claims["jti"]
        assert me(client, bearer(body["access_token"])).status_code == 200

    def test_the_new_refresh_token_can_be_refreshed_again(self, client: TestClient) -> None:
        first = logged_in(client)
        second = refresh(client, first["refresh_token"]).json()

        third = refresh(client, second["refresh_token"])

        assert third.status_code == 200, third.text
        assert me(client, bearer(third.json()["access_token"])).status_code == 200

    def test_a_reused_refresh_token_is_refused_and_revokes_its_whole_family(self, client: TestClient) -> None:
        first = logged_in(client)
        second = refresh(client, first["refresh_token"]).json()
        assert me(client, bearer(second["access_token"])).status_code == 200

        replayed = refresh(client, first["refresh_token"])

        assert_error(replayed, 401, "UNAUTHORIZED")
        assert_error(refresh(client, second["refresh_token"]), 401, "UNAUTHORIZED")
        assert_error(me(client, bearer(second["access_token"])), 401, "UNAUTHORIZED")
        assert_error(me(client, bearer(first["access_token"])), 401, "UNAUTHORIZED")

    def test_a_reused_refresh_token_leaves_the_users_other_sessions_alone(self, client: TestClient) -> None:
        stolen = logged_in(client, "pm")
        other = logged_in(client, "pm")
        refresh(client, stolen["refresh_token"])

        assert refresh(client, stolen["refresh_token"]).status_code == 401

        assert me(client, bearer(other["access_token"])).status_code == 200
        assert refresh(client, other["refresh_token"]).status_code == 200

    @pytest.mark.parametrize(
        "token",
        [
            pytest.param("definitely-not-a-refresh-token", id="unknown"),
            pytest.param("x" * 4096, id="long"),
        ],
    )
    def test_an_unknown_refresh_token_answers_401(self, client: TestClient, token: str) -> None:
        error = assert_error(refresh(client, token), 401, "UNAUTHORIZED")

        assert error["message"]

    def test_an_access_token_is_not_a_refresh_token(self, client: TestClient) -> None:
        body = logged_in(client)

        assert_error(refresh(client, body["access_token"]), 401, "UNAUTHORIZED")

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param({}, id="empty"),
            pytest.param({"refresh_token": ""}, id="empty-token"),
            pytest.param({"refresh_token": 1}, id="not-a-string"),
            pytest.param({"refresh_token": "abc", "extra": 1}, id="extra-field"),
        ],
    )
    def test_a_malformed_refresh_body_answers_400(self, client: TestClient, body: Any) -> None:
        assert_error(client.post(f"{BASE}/auth/refresh", json=body), 400, "VALIDATION_ERROR")

    def test_refresh_needs_no_access_token(self, client: TestClient) -> None:
        body = logged_in(client)

        response = client.post(
            f"{BASE}/auth/refresh", json={"refresh_token": body["refresh_token"]}, headers={"Authorization": "Bearer x"}
        )

        assert response.status_code == 200, response.text

    def test_a_refresh_of_a_deactivated_user_is_refused(
        self, client: TestClient, make_user: Callable[..., tuple[User, Headers]], unit: UnitOfWork
    ) -> None:
        user, _ = make_user("foreman", password="a-long-test-password")
        body = login(client, user.email, "a-long-test-password").json()
        deactivate(unit, user.id)

        assert_error(refresh(client, body["refresh_token"]), 401, "UNAUTHORIZED")
        assert_error(me(client, bearer(body["access_token"])), 401, "UNAUTHORIZED")


# --- logout ----------------------------------------------------------------------------------


class TestLogout:
    def test_logout_answers_with_a_message(self, client: TestClient) -> None:
        body = logged_in(client)

        response = client.post(f"{BASE}/auth/logout", headers=bearer(body["access_token"]))

        assert response.status_code == 200, response.text
        assert response.json() == {"message": "Successfully logged out"}

    def test_after_logout_the_access_and_refresh_tokens_of_that_session_are_refused(self, client: TestClient) -> None:
        body = logged_in(client)
        headers = bearer(body["access_token"])
        assert client.post(f"{BASE}/auth/logout", headers=headers).status_code == 200

        assert_error(me(client, headers), 401, "UNAUTHORIZED")
        assert_error(client.get(f"{BASE}/purchase-orders", headers=headers), 401, "UNAUTHORIZED")
        assert_error(client.post(f"{BASE}/auth/logout", headers=headers), 401, "UNAUTHORIZED")
        assert_error(refresh(client, body["refresh_token"]), 401, "UNAUTHORIZED")

    def test_logout_also_ends_access_tokens_refreshed_in_that_session(self, client: TestClient) -> None:
        body = logged_in(client)
        refreshed = refresh(client, body["refresh_token"]).json()

        assert client.post(f"{BASE}/auth/logout", headers=bearer(body["access_token"])).status_code == 200

        assert_error(me(client, bearer(refreshed["access_token"])), 401, "UNAUTHORIZED")
        assert_error(refresh(client, refreshed["refresh_token"]), 401, "UNAUTHORIZED")

    def test_another_session_of_the_same_user_keeps_working(self, client: TestClient) -> None:
        leaving, staying = logged_in(client, "super"), logged_in(client, "super")

        assert client.post(f"{BASE}/auth/logout", headers=bearer(leaving["access_token"])).status_code == 200

        assert me(client, bearer(staying["access_token"])).status_code == 200
        renewed = refresh(client, staying["refresh_token"])
        assert renewed.status_code == 200, renewed.text
        assert me(client, bearer(renewed.json()["access_token"])).status_code == 200

    def test_logout_is_written_to_the_audit_trail(
        self, client: TestClient, login_as: Callable[[str], Headers], settings: Settings
    ) -> None:
        body = logged_in(client, "foreman")
        assert idl_of(settings).jwt.secret is not None
        session_id = jwt.decode(body["access_token"], OctKey.import_key(str(idl_of(settings).jwt.secret))).claims["sid"]
        client.post(f"{BASE}/auth/logout", headers=bearer(body["access_token"]))

        entries = audit_entries(
            client, login_as("admin"), entity_type="user", action="logout", entity_id=str(body["user"]["id"])
        )

        assert entries, "the logout was not audited"
        latest = entries[0]
        assert latest["user"]["id"] == body["user"]["id"]
        assert latest["user"]["name"] == "Frank Foreman"
        assert latest["new_values"] == {"session_id": session_id}

    def test_logout_needs_a_token(self, client: TestClient) -> None:
        response = client.post(f"{BASE}/auth/logout")

        assert_error(response, 401, "UNAUTHORIZED")
        assert response.headers["www-authenticate"].startswith("Bearer")


# --- every operation -------------------------------------------------------------------------


def _secured_operations() -> list[Any]:
    document = yaml.safe_load((PROJECT_ROOT / "specs" / "idl.yaml").read_text())
    default = document.get("security", [])
    operations = []
    for template, item in document["paths"].items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None or not operation.get("security", default):
                continue
            path = template.replace("{id}", "1")
            operations.append(pytest.param(method.upper(), path, operation, id=operation["operationId"]))
    return operations


SECURED_OPERATIONS = _secured_operations()
VALID_BODIES: dict[str, Any] = {
    "createPurchaseOrder": {
        "type": "standard",
        "project_id": "PRJ001",
        "cost_code": "CC-001",
        "vendor_name": "ABC Supply Co.",
        "line_items": [
            {"description": "Nails", "quantity": 1, "unit": "box", "unit_price": 5, "category": "MA", "tax_code": "GP"}
        ],
    },
    "rejectPurchaseOrder": {"reason": "Over budget"},
}
VALID_BODIES["updatePurchaseOrder"] = VALID_BODIES["createPurchaseOrder"]


def _request_kwargs(operation: dict[str, Any]) -> dict[str, Any]:
    """A well-formed request body for the operation, so only the token can be wrong."""
    content = operation.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in content:
        return {"files": {"file": ("quote.pdf", quote_pdf("revoked"), "application/pdf")}}
    if "application/json" in content:
        return {"json": VALID_BODIES.get(operation["operationId"], {})}
    return {}


def test_the_spec_has_secured_operations_to_check() -> None:
    ids = {param.id for param in SECURED_OPERATIONS}

    assert len(SECURED_OPERATIONS) >= 20
    assert {"logout", "getCurrentUser", "uploadPurchaseOrderFile", "listAuditLogs"} <= ids
    assert not {"login", "refreshTokens"} & ids


@pytest.mark.parametrize(("method", "path", "operation"), SECURED_OPERATIONS)
def test_a_logged_out_token_is_refused_by_every_secured_operation(
    client: TestClient, login_as: Callable[[str], Headers], method: str, path: str, operation: dict[str, Any]
) -> None:
    headers = login_as("admin")
    assert client.post(f"{BASE}/auth/logout", headers=headers).status_code == 200

    response = client.request(method, f"{BASE}{path}", headers=headers, **_request_kwargs(operation))

    error = assert_error(response, 401, "UNAUTHORIZED")
    assert error["message"]
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path", "operation"), SECURED_OPERATIONS)
def test_a_logged_out_token_is_refused_even_with_a_malformed_request(
    client: TestClient,
    login_as: Callable[[str], Headers],
    settings: Settings,
    method: str,
    path: str,
    operation: dict[str, Any],
) -> None:
    """Authentication comes before validation, for a revoked token as for an expired one."""
    headers = login_as("admin")
    assert client.post(f"{BASE}/auth/logout", headers=headers).status_code == 200
    expired = bearer(_expired_token(settings))

    with_expired_token = client.request(method, f"{BASE}{path}", headers=expired)
    with_revoked_token = client.request(method, f"{BASE}{path}", headers=headers)

    assert_error(with_expired_token, 401, "UNAUTHORIZED")
    assert_error(with_revoked_token, 401, "UNAUTHORIZED")
    assert with_revoked_token.headers["www-authenticate"].startswith("Bearer")


def _expired_token(settings: Settings) -> str:
    claims = {"sub": "1", "role": "admin", "permissions": [], "jti": uuid.uuid4().hex, "sid": str(uuid.uuid4())}
    return issue_token(idl_of(settings).jwt, claims, ttl_seconds=-3600)


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="missing"),
        pytest.param("Bearer not-a-jwt", id="garbage"),
        pytest.param("Bearer ", id="empty-bearer"),
        pytest.param("Basic Zm9yZW1hbjpwYXNzd29yZA==", id="basic-scheme"),
        pytest.param("expired", id="expired"),
        pytest.param("wrong-key", id="signed-with-another-key"),
        pytest.param("order-accept", id="order-accept-token"),
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("GET", "/users/me", id="getCurrentUser"),
        pytest.param("GET", "/purchase-orders", id="listPurchaseOrders"),
        pytest.param("POST", "/auth/logout", id="logout"),
        pytest.param("GET", "/files/1/download", id="downloadFile"),
    ],
)
def test_a_missing_or_invalid_token_answers_401(
    client: TestClient, settings: Settings, method: str, path: str, authorization: str | None
) -> None:
    tokens = {
        "expired": f"Bearer {_expired_token(settings)}",
        "wrong-key": "Bearer "
        + issue_token(
            JWTSettings(secret="another-secret-that-is-long-enough-for-hs256-0123456"),
            {"sub": "1", "jti": "j", "sid": "s"},
        ),
        "order-accept": "Bearer " + issue_token(ORDER_ACCEPT.config(settings).jwt, {"sub": "1"}),
    }
    authorization = tokens.get(authorization or "", authorization)
    headers = {"Authorization": authorization} if authorization else {}

    response = client.request(method, f"{BASE}{path}", headers=headers)

    assert_error(response, 401, "UNAUTHORIZED")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_valid_token_for_a_user_that_does_not_exist_answers_401(client: TestClient, settings: Settings) -> None:
    claims = {"sub": "987654321", "role": "admin", "permissions": [], "jti": uuid.uuid4().hex, "sid": "none"}
    headers = bearer(issue_token(idl_of(settings).jwt, claims, 600))

    assert_error(me(client, headers), 401, "UNAUTHORIZED")


def test_a_deactivated_users_tokens_stop_working_at_once(
    client: TestClient, make_user: Callable[..., tuple[User, Headers]], unit: UnitOfWork
) -> None:
    user, headers = make_user("pm")
    assert me(client, headers).status_code == 200

    deactivate(unit, user.id)

    assert_error(me(client, headers), 401, "UNAUTHORIZED")


class TestOneCheckPerRequest:
    """The caller is known once per request: the token verified once, the user and session read once."""

    def test_a_request_reads_the_user_and_session_once(
        self, client: TestClient, login_as: Callable[[str], Headers]
    ) -> None:
        headers = login_as("foreman")
        statements: list[str] = []

        def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements.append(statement)

        # The app has an engine of its own: listen on every engine.
        event.listen(Engine, "before_cursor_execute", record)
        try:
            response = client.get(f"{BASE}/purchase-orders?limit=1", headers=headers)
        finally:
            event.remove(Engine, "before_cursor_execute", record)

        assert response.status_code == 200, response.text
        user_reads = [sql for sql in statements if "FROM idl_users" in sql and "idl_users.id =" in sql]
        session_reads = [sql for sql in statements if "auth_session_families" in sql]
        assert len(user_reads) == 1, user_reads
        assert len(session_reads) == 1, session_reads

    def test_the_token_is_verified_once_though_rate_limits_and_security_both_need_it(
        self, client: TestClient, login_as: Callable[[str], Headers], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        headers = login_as("foreman")
        calls: list[str] = []
        original = JWTVerifier.verify

        def counting(self: JWTVerifier, token: str) -> dict[str, Any]:
            calls.append(token)
            return original(self, token)

        monkeypatch.setattr(JWTVerifier, "verify", counting)

        assert client.get(f"{BASE}/users/me", headers=headers).status_code == 200
        assert len(calls) == 1


def test_a_path_id_with_spaces_is_400_not_id_1(client: TestClient, login_as: Callable[[str], Headers]) -> None:
    response = client.get(f"{BASE}/files/%20%201/download", headers=login_as("admin"))

    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert error["details"]["errors"] == {"id": ["Must be of type integer."]}
