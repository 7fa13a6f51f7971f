"""Routing as OpenAPI matches paths: a concrete path before a templated one, and a served
spec with no links to the operations it leaves out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, Router
from starlette.testclient import TestClient

from core.api import only_operations
from core.routing import concrete_paths_first


def answer(name: str) -> Callable[[Request], Awaitable[PlainTextResponse]]:
    async def endpoint(request: Request) -> PlainTextResponse:
        return PlainTextResponse(name)

    return endpoint


def test_a_concrete_path_answers_405_to_a_method_only_its_template_has() -> None:
    router = Router(
        [
            Route("/integrations/registry", answer("list templates"), methods=["GET"]),
            Route("/integrations/{integration_id}", answer("update integration"), methods=["PATCH"]),
            Route("/integrations/{integration_id}", answer("get integration"), methods=["GET"]),
        ]
    )
    concrete_paths_first(router)
    client = TestClient(Starlette(routes=router.routes))
    assert client.get("/integrations/registry").text == "list templates"
    assert client.patch("/integrations/registry").status_code == 405
    assert client.patch("/integrations/3f6c").text == "update integration"
    assert client.get("/integrations/3f6c").text == "get integration"


def test_links_to_operations_left_out_are_left_out_too() -> None:
    document = {
        "paths": {
            "/things": {
                "post": {
                    "operationId": "createThing",
                    "responses": {
                        "201": {
                            "description": "made",
                            "links": {
                                "Get": {"operationId": "getThing"},
                                "Watch": {"operationId": "watchThing"},
                            },
                        }
                    },
                }
            },
            "/things/{id}": {"get": {"operationId": "getThing", "responses": {}}},
            "/things/{id}/watch": {"post": {"operationId": "watchThing", "responses": {}}},
        }
    }
    served = only_operations(document, {"createThing", "getThing"})
    assert list(served["paths"]) == ["/things", "/things/{id}"]
    assert list(served["paths"]["/things"]["post"]["responses"]["201"]["links"]) == ["Get"]
    alone = only_operations(document, {"createThing"})
    assert "links" not in alone["paths"]["/things"]["post"]["responses"]["201"]
