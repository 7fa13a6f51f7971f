"""Okta provisioning Mihwar, request by request, as Okta's SCIM 2.0 guide shows it
(developer.okta.com, "SCIM 2.0 protocol reference" and "Build a SCIM provisioning
integration"): look a user up by `userName`, create them, read them back, update the
profile with PUT, deactivate and reactivate with a PATCH that has no path, push a group,
rename it, add and remove members, and delete it. Over HTTP, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from starlette.testclient import TestClient

from core.unit_of_work import UnitOfWork
from models.mihwar.tables import ScimAudit
from tests.mihwar.conftest import SCIM, ScimCaller, scim_body, session_of_user

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SETTINGS = "/mihwar/api/settings/webhooks"


def okta_user(user_name: str, **changes: Any) -> dict[str, Any]:
    """The body of Okta's "Create the user" request (its own example, with our names)."""
    return {
        "schemas": [USER],
        "userName": user_name,
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": True, "value": user_name, "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": True,
        **changes,
    }


def find(client: TestClient, scim: ScimCaller, what: str, filter_text: str) -> dict[str, Any]:
    url = f"{SCIM}/{what}?filter={quote(filter_text)}&startIndex=1&count=100"
    return scim_body(client.get(url, headers=scim.headers))


def test_okta_provisions_updates_deactivates_and_reactivates_a_user(
    client: TestClient, scim: ScimCaller, unit: UnitOfWork
) -> None:
    user_name = f"test.user.{scim.token_id}@okta.local"

    # 1. Does the user exist? Not yet: an empty list, `Resources` included.
    empty = find(client, scim, "Users", f'userName eq "{user_name}"')
    assert (empty["totalResults"], empty["Resources"]) == (0, [])

    # 2. Create: 201, with Location and ETag, the password never echoed.
    created = client.post(f"{SCIM}/Users", json=okta_user(user_name), headers=scim.headers)
    user = scim_body(created, 201)
    assert created.headers["Location"] == user["meta"]["location"]
    assert created.headers["ETag"] == user["meta"]["version"]
    assert "password" not in user
    assert (user["userName"], user["active"], user["externalId"]) == (user_name, True, "00ujl29u0le5T6Aj10h7")
    assert user["name"] == {"givenName": "Test", "familyName": "User"}
    user_id = user["id"]

    # 3. Okta reads it back, and finds it by userName in any letter case.
    assert scim_body(client.get(f"{SCIM}/Users/{user_id}", headers=scim.headers))["id"] == user_id
    assert find(client, scim, "Users", f'userName eq "{user_name.upper()}"')["totalResults"] == 1

    # 4. A profile update is a PUT of the whole user.
    put = okta_user(user_name, name={"givenName": "Another", "familyName": "User"}, id=user_id)
    updated = scim_body(client.put(f"{SCIM}/Users/{user_id}", json=put, headers=scim.headers))
    assert updated["name"]["givenName"] == "Another"
    assert updated["meta"]["version"] != user["meta"]["version"]

    # 5. Deactivation is a PATCH without a path; the user's session ends with it.
    session = session_of_user(unit, user_id)
    assert client.get(SETTINGS, headers=session).status_code == 403  # signed in, a member: no settings
    deactivate = {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": False}}]}
    patched = scim_body(client.patch(f"{SCIM}/Users/{user_id}", json=deactivate, headers=scim.headers))
    assert patched["active"] is False
    assert client.get(SETTINGS, headers=session).status_code == 401

    # 6. Reactivation: the same PATCH with true; the data was kept all along.
    reactivate = {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": True}}]}
    back = scim_body(client.patch(f"{SCIM}/Users/{user_id}", json=reactivate, headers=scim.headers))
    assert (back["active"], back["name"]["givenName"]) == (True, "Another")

    # Every change was recorded, with the token that made it.
    actions = unit.session.scalars(
        select(ScimAudit.action).where(ScimAudit.resource_id == user_id).order_by(ScimAudit.id)
    ).all()
    assert actions == ["create", "replace", "patch", "patch"]
    tokens = set(unit.session.scalars(select(ScimAudit.token_id).where(ScimAudit.resource_id == user_id)))
    assert tokens == {scim.token_id}


def test_okta_pushes_a_group_renames_it_and_changes_its_members(client: TestClient, scim: ScimCaller) -> None:
    ids = [
        scim_body(
            client.post(f"{SCIM}/Users", json=okta_user(f"{who}.{scim.token_id}@okta.local"), headers=scim.headers), 201
        )["id"]
        for who in ("ann", "bob")
    ]
    name = f"Test SCIMv2 {scim.token_id}"

    assert find(client, scim, "Groups", f'displayName eq "{name}"')["totalResults"] == 0
    created = client.post(
        f"{SCIM}/Groups", json={"schemas": [GROUP], "displayName": name, "members": []}, headers=scim.headers
    )
    group = scim_body(created, 201)
    group_id = group["id"]
    assert created.headers["Location"].endswith(f"/Groups/{group_id}")

    # Okta renames with a replace whose value is an object, with the id, and no path.
    rename = {
        "schemas": [PATCH],
        "Operations": [{"op": "replace", "value": {"id": group_id, "displayName": f"{name} renamed"}}],
    }
    assert (
        scim_body(client.patch(f"{SCIM}/Groups/{group_id}", json=rename, headers=scim.headers))["displayName"]
        == f"{name} renamed"
    )

    # Members are added by value, and removed by a value filter in the path.
    add = {
        "schemas": [PATCH],
        "Operations": [
            {
                "op": "add",
                "path": "members",
                "value": [{"value": ids[0], "display": "ann"}, {"value": ids[1], "display": "bob"}],
            }
        ],
    }
    added = scim_body(client.patch(f"{SCIM}/Groups/{group_id}", json=add, headers=scim.headers))
    assert {member["value"] for member in added["members"]} == set(ids)
    remove = {"schemas": [PATCH], "Operations": [{"op": "remove", "path": f'members[value eq "{ids[1]}"]'}]}
    removed = scim_body(client.patch(f"{SCIM}/Groups/{group_id}", json=remove, headers=scim.headers))
    assert [member["value"] for member in removed["members"]] == [ids[0]]

    # The member's user shows the group, read-only.
    ann = scim_body(client.get(f"{SCIM}/Users/{ids[0]}", headers=scim.headers))
    assert [(entry["value"], entry["display"]) for entry in ann["groups"]] == [(group_id, f"{name} renamed")]

    assert client.delete(f"{SCIM}/Groups/{group_id}", headers=scim.headers).status_code == 204
    assert client.get(f"{SCIM}/Groups/{group_id}", headers=scim.headers).status_code == 404
    assert "groups" not in scim_body(client.get(f"{SCIM}/Users/{ids[0]}", headers=scim.headers))
