"""Request bodies: the exact bytes stay available to the handler while validation still runs."""

from __future__ import annotations

import hashlib
import hmac

from starlette.testclient import TestClient

SIGNING_KEY = b"tiny-signing-key"


def signature(body: bytes) -> str:
    return hmac.new(SIGNING_KEY, body, hashlib.sha256).hexdigest()


def test_the_handler_sees_the_exact_bytes_sent(tiny_client: TestClient) -> None:
    body = b'{ "n" :1 ,\n  "extra": "\\u00e9t\\u00e9"}'  # spacing and escapes a re-encoding would lose

    response = tiny_client.post(
        "/tiny/signed", content=body, headers={"Content-Type": "application/json", "X-Signature": signature(body)}
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"valid": True}


def test_a_body_that_does_not_match_its_schema_never_reaches_the_handler(tiny_client: TestClient) -> None:
    body = b'{"n": "one"}'

    response = tiny_client.post(
        "/tiny/signed", content=body, headers={"Content-Type": "application/json", "X-Signature": signature(body)}
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"n": ["Must be of type integer."]}


def test_per_operation_limits_override_the_apis(tiny_client: TestClient) -> None:
    from tests.core.conftest import WRITER

    just_over = tiny_client.post(
        "/tiny/notes", content=b" " * 257, headers={**WRITER, "Content-Type": "application/json"}
    )
    api_limit = tiny_client.post(
        "/tiny/signed", content=b" " * 4097, headers={"Content-Type": "application/json", "X-Signature": "x"}
    )

    assert just_over.status_code == 413, just_over.text
    assert just_over.json()["detail"] == "The request body is larger than 256 bytes."
    assert api_limit.status_code == 413
    assert api_limit.json()["detail"] == "The request body is larger than 4096 bytes."


def test_a_present_body_that_is_not_an_object_is_refused_even_when_optional(tiny_client: TestClient) -> None:
    from tests.core.conftest import WRITER

    created = tiny_client.post("/tiny/notes", json={"text": "x"}, headers=WRITER).json()
    path = f"/tiny/notes/{created['id']}"

    left_out = tiny_client.patch(path, headers=WRITER)
    null = tiny_client.patch(path, content=b"null", headers={**WRITER, "Content-Type": "application/json"})

    assert left_out.status_code == 200
    assert null.status_code == 400
    assert null.json()["errors"] == {"$": ["Must be of type object."]}
