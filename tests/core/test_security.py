"""Security by scheme name: verifiers, alternatives, scopes, permissions and RFC 6750 challenges."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.core.conftest import ADMIN, READER, WRITER


def test_two_bearer_schemes_get_their_own_verifiers(tiny_client: TestClient) -> None:
    reading_with_a_client_token = tiny_client.get("/tiny/notes/1", headers=WRITER)
    writing_with_a_reader_token = tiny_client.post("/tiny/notes", json={"text": "x"}, headers=READER)

    assert reading_with_a_client_token.status_code == 401
    assert reading_with_a_client_token.json()["detail"] == "Not a reader token."
    assert writing_with_a_reader_token.status_code == 401
    assert writing_with_a_reader_token.json()["detail"] == "Not a client token."


@pytest.mark.parametrize(
    ("headers", "subject"),
    [
        pytest.param(READER, "ann", id="first-alternative"),
        pytest.param({"Authorization": "Bearer client-anything"}, "anything", id="second-alternative"),
    ],
)
def test_any_one_alternative_will_do(tiny_client: TestClient, headers: dict[str, str], subject: str) -> None:
    response = tiny_client.get("/tiny/whoami", headers=headers)

    assert response.status_code == 200, response.text
    assert response.json()["subject"] == subject


def test_a_missing_credential_gets_a_challenge_without_an_error_code(tiny_client: TestClient) -> None:
    response = tiny_client.get("/tiny/notes/1")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="tiny"'


def test_a_refused_credential_gets_invalid_token(tiny_client: TestClient) -> None:
    response = tiny_client.get("/tiny/notes/1", headers={"Authorization": "Bearer nonsense"})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        'Bearer realm="tiny", error="invalid_token", error_description="Not a reader token."'
    )


def test_a_missing_scope_is_403_with_insufficient_scope(tiny_client: TestClient) -> None:
    response = tiny_client.post("/tiny/notes", json={"text": "x"}, headers={"Authorization": "Bearer client-other"})

    assert response.status_code == 403
    assert response.json()["detail"] == "The credential lacks the scope(s) notes:write."
    assert response.headers["www-authenticate"] == (
        'Bearer realm="tiny", error="insufficient_scope", scope="notes:write"'
    )


def test_scopes_are_checked_before_the_body(tiny_client: TestClient) -> None:
    response = tiny_client.post("/tiny/notes", json={"nonsense": True}, headers={"Authorization": "Bearer client-x"})

    assert response.status_code == 403


def test_a_declared_permission_is_enforced_in_one_place(tiny_client: TestClient) -> None:
    refused = tiny_client.post("/tiny/purge", headers=WRITER)
    allowed = tiny_client.post("/tiny/purge", headers=ADMIN)

    assert refused.status_code == 403
    assert refused.json()["detail"] == "This operation needs the permission(s) notes:purge."
    assert refused.headers["www-authenticate"].startswith('Bearer realm="tiny", error="insufficient_scope"')
    assert allowed.status_code == 204


def test_only_401_and_403_carry_the_challenge(tiny_client: TestClient) -> None:
    response = tiny_client.get("/tiny/notes/999999", headers=READER)

    assert response.status_code == 404
    assert "www-authenticate" not in response.headers


def test_an_open_operation_needs_no_credential(tiny_client: TestClient) -> None:
    assert tiny_client.get("/tiny/slow", params={"seconds": 0}).status_code == 200
