"""Errors under /api/scim/v2 are SCIM errors (RFC 7644 §3.12), whatever raised them."""

from __future__ import annotations

import pytest
from scim2_models import InvalidFilterException, NotFoundException, PreconditionFailedException, UniquenessException
from starlette.testclient import TestClient

from handlers.mihwar.scim_errors import problem_of

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


@pytest.mark.parametrize(
    ("raised", "status", "scim_type"),
    [
        (InvalidFilterException(detail="bad"), 400, "invalidFilter"),
        (NotFoundException(detail="gone"), 404, None),
        (UniquenessException(detail="taken"), 409, "uniqueness"),
        (PreconditionFailedException(detail="stale"), 412, None),
    ],
)
def test_a_directory_exception_keeps_its_status_and_scim_type(raised: Exception, status: int, scim_type: str) -> None:
    problem = problem_of(raised)  # type: ignore[arg-type]

    assert problem.status_code == status
    assert problem.extensions.get("scimType") == scim_type


def test_the_core_s_own_errors_take_the_scim_form_under_the_scim_path(client: TestClient) -> None:
    response = client.get("/mihwar/api/scim/v2/Nothing/here")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/scim+json")
    assert response.json()["schemas"] == [ERROR]
    assert response.json()["status"] == "404"


def test_other_paths_keep_problem_details(client: TestClient) -> None:
    response = client.get("/mihwar/api/integrations/v1/nothing")

    assert response.headers["content-type"].startswith("application/problem+json")
