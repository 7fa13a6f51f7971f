"""SCIM over HTTP as RFC 7644 has it: who may call, media types, paging, attribute
selection, versions, errors and their `scimType`, all-or-nothing PATCH, roles from groups,
the root search and the discovery endpoints. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from core.unit_of_work import UnitOfWork
from models.mihwar.scim.tokens import ScimTokens
from models.mihwar.tables import ENTERPRISE, Organization
from tests.mihwar.conftest import BASE, SCIM, ScimCaller, Tenant, scim_body, scim_error, session_of, session_of_user

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SETTINGS = "/mihwar/api/settings/webhooks"


def new_user(client: TestClient, scim: ScimCaller, name: str, **attributes: Any) -> dict[str, Any]:
    body = {"schemas": [USER], "userName": f"{name}.{scim.token_id}@example.com", **attributes}
    return scim_body(client.post(f"{SCIM}/Users", json=body, headers=scim.headers), 201)


def patch(client: TestClient, scim: ScimCaller, path: str, *operations: dict[str, Any], **headers: str) -> Any:
    body = {"schemas": [PATCH], "Operations": list(operations)}
    return client.patch(f"{SCIM}/{path}", json=body, headers={**scim.headers, **headers})


# Who may call -----------------------------------------------------------------------------


def test_only_a_live_scim_token_of_an_enterprise_organization_opens_scim(
    client: TestClient, scim: ScimCaller, tenant: Tenant, unit: UnitOfWork, new_tenant: Callable[..., Tenant]
) -> None:
    missing = client.get(f"{SCIM}/Users")
    scim_error(missing, 401)
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    scim_error(client.get(f"{SCIM}/Users", headers={"Authorization": "Bearer scim_live_" + "x" * 43}), 401)
    scim_error(client.get(f"{SCIM}/Users", headers=tenant.headers), 401)  # an API key is no SCIM token
    scim_error(client.get(f"{SCIM}/Users", headers=session_of(unit, tenant, "ADMIN")), 401)  # nor a session
    assert client.get(f"{BASE}/inventory/items", headers=scim.headers).status_code == 401  # nor the other way

    starter = new_tenant(plan="STANDARD")
    organization = unit.session.get(Organization, starter.id)
    assert organization is not None
    organization.plan = ENTERPRISE
    unit.session.flush()
    token = ScimTokens(unit).create(organization, "IdP").secret
    organization.plan = "STANDARD"
    unit.commit()
    scim_error(client.get(f"{SCIM}/Users", headers={"Authorization": f"Bearer {token}"}), 403)

    ScimTokens(unit).revoke(scim.token_id)
    unit.commit()
    scim_error(client.get(f"{SCIM}/Users", headers=scim.headers), 401)


# Media types --------------------------------------------------------------------------------


def test_application_json_is_accepted_and_answers_are_scim_json(client: TestClient, scim: ScimCaller) -> None:
    body = {"schemas": [USER], "userName": f"json.{scim.token_id}@example.com"}
    answer = client.post(f"{SCIM}/Users", json=body, headers={**scim.headers, "Content-Type": "application/json"})
    assert scim_body(answer, 201)["userName"] == body["userName"]

    refused = client.post(
        f"{SCIM}/Users", content=b"userName=x", headers={**scim.headers, "Content-Type": "text/plain"}
    )
    scim_error(refused, 415)


# Paging and attribute selection -------------------------------------------------------------


def test_start_index_and_count_out_of_range_are_read_as_rfc_7644_says(client: TestClient, scim: ScimCaller) -> None:
    for name in ("a", "b", "c"):
        new_user(client, scim, name)
    mine = quote(f'userName ew "{scim.token_id}@example.com"')

    below = scim_body(client.get(f"{SCIM}/Users?filter={mine}&startIndex=-5&count=2", headers=scim.headers))
    assert (below["startIndex"], below["itemsPerPage"], below["totalResults"]) == (1, 2, 3)
    only_total = scim_body(client.get(f"{SCIM}/Users?filter={mine}&count=0", headers=scim.headers))
    assert (only_total["totalResults"], only_total["Resources"]) == (3, [])
    negative = scim_body(client.get(f"{SCIM}/Users?filter={mine}&count=-1", headers=scim.headers))
    assert negative["itemsPerPage"] == 0
    above = scim_body(client.get(f"{SCIM}/Users?count=100000&startIndex=1", headers=scim.headers))
    assert above["itemsPerPage"] <= 100
    past = scim_body(client.get(f"{SCIM}/Users?filter={mine}&startIndex=99999999999", headers=scim.headers))
    assert (past["totalResults"], past["Resources"]) == (3, [])


def test_attributes_and_excluded_attributes_select_what_is_returned(client: TestClient, scim: ScimCaller) -> None:
    user = new_user(
        client, scim, "sel", displayName="Sel Ection", emails=[{"value": "sel@example.com", "type": "work"}]
    )
    url = f"{SCIM}/Users/{user['id']}"

    only = scim_body(client.get(f"{url}?attributes=userName,emails.value", headers=scim.headers))
    assert set(only) == {"schemas", "id", "userName", "emails"}
    assert only["emails"] == [{"value": "sel@example.com"}]
    without = scim_body(client.get(f"{url}?excludedAttributes=emails,meta", headers=scim.headers))
    assert "emails" not in without
    assert "meta" not in without
    assert without["displayName"] == "Sel Ection"
    both = scim_body(client.get(f"{url}?attributes=displayName&excludedAttributes=displayName", headers=scim.headers))
    assert both["displayName"] == "Sel Ection"  # `attributes` wins
    scim_error(client.get(f"{url}?attributes=1bad", headers=scim.headers), 400, "invalidValue")


# Versions -------------------------------------------------------------------------------------


def test_etags_make_writes_conditional_and_reads_cheap(client: TestClient, scim: ScimCaller) -> None:
    created = client.post(f"{SCIM}/Users", json={"userName": f"etag.{scim.token_id}@x.test"}, headers=scim.headers)
    user, first = scim_body(created, 201), created.headers["ETag"]
    url = f"{SCIM}/Users/{user['id']}"

    assert client.get(url, headers={**scim.headers, "If-None-Match": first}).status_code == 304
    change = {"op": "replace", "path": "displayName", "value": "One"}
    changed = patch(client, scim, f"Users/{user['id']}", change, **{"If-Match": first})
    second = changed.headers["ETag"]
    assert second != first
    assert scim_body(changed)["meta"]["version"] == second

    scim_error(patch(client, scim, f"Users/{user['id']}", change, **{"If-Match": first}), 412)
    put = {"userName": user["userName"], "displayName": "Two"}
    scim_error(client.put(url, json=put, headers={**scim.headers, "If-Match": first}), 412)
    scim_error(client.delete(url, headers={**scim.headers, "If-Match": first}), 412)
    assert client.get(url, headers={**scim.headers, "If-None-Match": first}).status_code == 200
    assert client.delete(url, headers={**scim.headers, "If-Match": second}).status_code == 204


# Errors -----------------------------------------------------------------------------------------


def test_each_kind_of_bad_request_has_its_scim_type(client: TestClient, scim: ScimCaller) -> None:
    user = new_user(client, scim, "err")
    at = f"Users/{user['id']}"

    scim_error(client.post(f"{SCIM}/Users", content=b"{not json", headers=scim.headers), 400, "invalidSyntax")
    wrong = client.post(f"{SCIM}/Users", json={"userName": "x@y.z", "active": "yes"}, headers=scim.headers)
    assert "/active" in scim_error(wrong, 400, "invalidValue")["detail"]
    duplicate = client.post(f"{SCIM}/Users", json={"userName": user["userName"].upper()}, headers=scim.headers)
    scim_error(duplicate, 409, "uniqueness")
    scim_error(client.get(f"{SCIM}/Users?filter={quote('userName eq')}", headers=scim.headers), 400, "invalidFilter")
    scim_error(client.get(f"{SCIM}/Users?filter={quote('nothing eq 1')}", headers=scim.headers), 400, "invalidFilter")
    scim_error(patch(client, scim, at, {"op": "replace", "path": "id", "value": "mine"}), 400, "mutability")
    scim_error(patch(client, scim, at, {"op": "replace", "path": "emails[type eq", "value": "x"}), 400, "invalidPath")
    scim_error(patch(client, scim, at, {"op": "replace", "path": "active", "value": "maybe"}), 400, "invalidValue")
    scim_error(patch(client, scim, at, {"op": "remove"}), 400, "noTarget")
    scim_error(patch(client, scim, at, {"op": "copy", "path": "active"}), 400, "invalidValue")
    scim_error(client.get(f"{SCIM}/Users/no-such-user", headers=scim.headers), 404)


def test_a_patch_that_fails_part_way_changes_nothing(client: TestClient, scim: ScimCaller) -> None:
    user = new_user(client, scim, "atomic", displayName="Before")
    at = f"Users/{user['id']}"

    failed = patch(
        client,
        scim,
        at,
        {"op": "replace", "path": "displayName", "value": "After"},
        {"op": "replace", "path": "active", "value": False},
        {"op": "replace", "path": "meta", "value": {}},
    )
    scim_error(failed, 400, "mutability")

    after = scim_body(client.get(f"{SCIM}/{at}", headers=scim.headers))
    assert (after["displayName"], after["active"], after["meta"]["version"]) == (
        "Before",
        True,
        user["meta"]["version"],
    )


def test_writes_longer_than_mihwar_keeps_answer_400_not_500(client: TestClient, scim: ScimCaller) -> None:
    user = new_user(client, scim, "long")
    long_name = patch(
        client, scim, f"Users/{user['id']}", {"op": "replace", "path": "name.givenName", "value": "x" * 300}
    )
    assert "name.givenName" in scim_error(long_name, 400, "invalidValue")["detail"]


def test_two_creations_of_one_user_name_at_once_make_one_user(client: TestClient, scim: ScimCaller) -> None:
    body = {"schemas": [USER], "userName": f"race.{scim.token_id}@example.com"}
    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def create() -> None:
        barrier.wait()
        statuses.append(client.post(f"{SCIM}/Users", json=body, headers=scim.headers).status_code)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201, 409, 409, 409]
    by_name = quote('userName eq "{}"'.format(body["userName"]))
    found = scim_body(client.get(f"{SCIM}/Users?filter={by_name}", headers=scim.headers))
    assert found["totalResults"] == 1


# Roles from groups, at once ----------------------------------------------------------------------


def test_membership_of_the_admin_group_grants_the_settings_at_once(
    client: TestClient, scim: ScimCaller, unit: UnitOfWork
) -> None:
    user = new_user(client, scim, "admin-to-be")
    session = session_of_user(unit, user["id"])
    assert client.get(SETTINGS, headers=session).status_code == 403

    group = scim_body(client.post(f"{SCIM}/Groups", json={"displayName": "mihwar admins"}, headers=scim.headers), 201)
    add = {"op": "add", "path": "members", "value": [{"value": user["id"]}]}
    assert patch(client, scim, f"Groups/{group['id']}", add).status_code == 200
    assert client.get(SETTINGS, headers=session).status_code == 200

    remove = {"op": "remove", "path": f'members[value eq "{user["id"]}"]'}
    assert patch(client, scim, f"Groups/{group['id']}", remove).status_code == 200
    assert client.get(SETTINGS, headers=session).status_code == 403


# Searching ---------------------------------------------------------------------------------------


def test_a_search_by_body_finds_what_the_query_finds(client: TestClient, scim: ScimCaller) -> None:
    user = new_user(client, scim, "searched")
    group = scim_body(
        client.post(f"{SCIM}/Groups", json={"displayName": f"G {scim.token_id}"}, headers=scim.headers), 201
    )
    search = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "attributes": ["userName"]}

    by_type = client.post(
        f"{SCIM}/Users/.search", json={**search, "filter": f'userName eq "{user["userName"]}"'}, headers=scim.headers
    )
    assert scim_body(by_type)["Resources"] == [{"schemas": [USER], "id": user["id"], "userName": user["userName"]}]

    both = {**search, "filter": f'userName eq "{user["userName"]}" or displayName eq "G {scim.token_id}"'}
    everything = scim_body(client.post(f"{SCIM}/.search", json=both, headers=scim.headers))
    assert [entry["id"] for entry in everything["Resources"]] == [user["id"], group["id"]]
    page_two = scim_body(client.post(f"{SCIM}/.search", json={**both, "startIndex": 2}, headers=scim.headers))
    assert (page_two["totalResults"], [entry["id"] for entry in page_two["Resources"]]) == (2, [group["id"]])
    scim_error(
        client.post(f"{SCIM}/.search", json={"filter": "nothing eq 1"}, headers=scim.headers), 400, "invalidFilter"
    )


# Discovery -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "found"),
    [
        ("ServiceProviderConfig", "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"),
        ("ResourceTypes/User", "urn:ietf:params:scim:schemas:core:2.0:ResourceType"),
        (f"Schemas/{USER}", "urn:ietf:params:scim:schemas:core:2.0:Schema"),
        (f"Schemas/{GROUP}", "urn:ietf:params:scim:schemas:core:2.0:Schema"),
    ],
)
def test_discovery_documents_are_served(client: TestClient, scim: ScimCaller, path: str, found: str) -> None:
    assert scim_body(client.get(f"{SCIM}/{path}", headers=scim.headers))["schemas"] == [found]


def test_discovery_lists_and_unknown_ids(client: TestClient, scim: ScimCaller) -> None:
    config = scim_body(client.get(f"{SCIM}/ServiceProviderConfig", headers=scim.headers))
    assert (config["filter"]["maxResults"], config["etag"]["supported"]) == (100, True)
    types = scim_body(client.get(f"{SCIM}/ResourceTypes", headers=scim.headers))
    assert [entry["id"] for entry in types["Resources"]] == ["User", "Group"]
    schemas = scim_body(client.get(f"{SCIM}/Schemas", headers=scim.headers))
    assert [entry["id"] for entry in schemas["Resources"]] == [USER, GROUP]
    scim_error(client.get(f"{SCIM}/ResourceTypes/Device", headers=scim.headers), 404)
    scim_error(client.get(f"{SCIM}/Schemas/urn:nothing:here", headers=scim.headers), 404)
