"""Request bodies: the exact bytes stay available to the handler while validation still runs."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import pytest
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


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize(
    ("content", "status", "got"),
    [
        pytest.param(b"grant_type=x&count=3&tags=a&tags=b", 200,
                     {"fields": {"grant_type": "x", "count": 3, "tags": ["a", "b"]}}, id="typed"),
        pytest.param(b"grant_type=%C3%A9t%C3%A9", 200, {"fields": {"grant_type": "été"}}, id="utf-8"),
        pytest.param(b"grant_type=x&grant_type=y", 400, {"grant_type": ["Given more than once."]}, id="repeated"),
        pytest.param(b"grant_type=%FF", 400, {"$": ["The form is not valid UTF-8."]}, id="not-utf-8"),
        pytest.param(b"grant_type=%ED%A0%80", 400, {"$": ["The form is not valid UTF-8."]}, id="surrogate"),
        pytest.param(b"grant_type=x&count=1e3", 400, {"count": ["Must be of type integer."]}, id="not-an-integer"),
        pytest.param(b"grant_type=x&other=1", 400, {"other": ["Unknown form part."]}, id="unknown"),
        pytest.param(b"count=1", 400, {"grant_type": ["This field is required."]}, id="missing"),
        pytest.param(b"a=&" * 1001, 400, {"$": ["The form has more than 1000 fields."]}, id="too-many-fields"),
        pytest.param(b"grant_type=a%00b", 400, {"grant_type": ["Must not contain a NUL character."]}, id="nul"),
    ],
)  # fmt: skip
def test_a_urlencoded_form_is_read_strictly(tiny_client: TestClient, content: bytes, status: int, got: Any) -> None:
    response = tiny_client.post("/tiny/forms", content=content, headers=FORM)

    assert response.status_code == status, response.text
    assert (response.json() if status == 200 else response.json()["errors"]) == got


def test_a_multipart_form_gives_the_handler_its_fields_and_files(tiny_client: TestClient) -> None:
    response = tiny_client.post(
        "/tiny/forms", data={"note": "see attached"}, files={"attachment": ("a.txt", b"hello", "text/plain")}
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"fields": {"note": "see attached"}, "attachment": {"filename": "a.txt", "size": 5}}


def test_a_text_field_sent_as_a_file_is_refused(tiny_client: TestClient) -> None:
    response = tiny_client.post("/tiny/forms", files={"note": ("note.txt", b"hello", "text/plain")})

    assert response.status_code == 400
    assert response.json()["errors"]["note"] == ["Must be text, not a file."]


def test_a_nul_character_in_a_parameter_is_refused(tiny_client: TestClient) -> None:
    response = tiny_client.get("/tiny/slow?seconds=0%00")

    assert response.status_code == 400
    assert response.json()["errors"] == {"seconds": ["Must not contain a NUL character."]}


@pytest.mark.parametrize("count", [101, 9_000])
def test_too_many_query_parameters_are_refused_at_once(tiny_client: TestClient, count: int) -> None:
    query = "&".join(str(number) for number in range(count))

    started = time.perf_counter()
    response = tiny_client.get(f"/tiny/slow?seconds=0&{query}")
    elapsed = time.perf_counter() - started

    assert response.status_code == 400
    assert response.json()["errors"] == {"$query": ["The query has more than 100 parameters."]}
    assert elapsed < 0.5
