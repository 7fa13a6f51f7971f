"""What a handler returns becomes the response it stands for."""

from __future__ import annotations

from typing import Any

import pytest
from connexion.lifecycle import ConnexionResponse
from starlette.responses import Response, StreamingResponse

from core.responses import json_body, no_content, to_response


@pytest.mark.parametrize(
    ("result", "status", "content_type", "body"),
    [
        pytest.param({"a": 1}, 200, "application/json", b'{"a":1}', id="a-body"),
        pytest.param(({"a": 1}, 201), 201, "application/json", b'{"a":1}', id="body-and-status"),
        pytest.param(json_body([1], 202, {"X-A": "b"}), 202, "application/json", b"[1]", id="json-body"),
        pytest.param(("plain", 200, {"Content-Type": "text/plain"}), 200, "text/plain; charset=utf-8", b"plain",
                     id="another-media-type"),
        pytest.param(no_content(), 204, None, b"", id="no-content"),
        pytest.param(ConnexionResponse(status_code=200, body={"a": 1}), 200, "application/json", b'{"a":1}',
                     id="connexion-response-with-a-mapping"),
    ],
)  # fmt: skip
def test_results(result: Any, status: int, content_type: str | None, body: bytes) -> None:
    response = to_response(result)

    assert response.status_code == status
    assert response.headers.get("content-type") == content_type
    assert response.body == body


def test_an_iterator_body_is_streamed() -> None:
    response = to_response(ConnexionResponse(status_code=200, mimetype="text/plain", body=iter([b"a", b"b"])))

    assert isinstance(response, StreamingResponse)


def test_a_starlette_response_passes_as_it_is() -> None:
    response = Response(b"x")

    assert to_response(response) is response
