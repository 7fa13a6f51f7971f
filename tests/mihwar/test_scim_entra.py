"""Microsoft Entra ID provisioning Mihwar, request by request, as Microsoft's guide "Develop
and plan provisioning for a SCIM endpoint" (learn.microsoft.com) lists its requests: the
enterprise extension, capitalised ops, `active` as the string "False", the manager, a
value filter in a path, groups read with `excludedAttributes=members`, the membership
check `id eq … and members eq …`, and members removed by a value list. Over HTTP, on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.testclient import TestClient

from core.unit_of_work import UnitOfWork
from tests.mihwar.conftest import SCIM, ScimCaller, scim_body, session_of_user

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTRA_GROUP = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def entra_user(tag: str) -> dict[str, Any]:
    """Entra ID's "Create User" request."""
    return {
        "schemas": [USER, ENTERPRISE],
        "externalId": f"0a21f0f2-8d2a-4f8e-bf98-{tag}",
        "userName": f"Test_User_ab6490ee-{tag}",
        "active": True,
        "emails": [{"primary": True, "type": "work", "value": f"Test_User_fd0ea19b-{tag}@testuser.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": [],
    }


def operations(*changes: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH], "Operations": list(changes)}


def filtered(what: str, filter_text: str, *more: str) -> str:
    return f"{what}?filter={quote(filter_text)}" + "".join(f"&{query}" for query in more)


def listed(client: TestClient, scim: ScimCaller, query: str) -> dict[str, Any]:
    return scim_body(client.get(f"{SCIM}/{query}", headers=scim.headers))


def test_entra_creates_updates_disables_and_deletes_a_user(
    client: TestClient, scim: ScimCaller, unit: UnitOfWork
) -> None:
    body = entra_user(scim.token_id)
    by_name = filtered("Users", 'userName eq "{}"'.format(body["userName"]))
    assert listed(client, scim, by_name)["totalResults"] == 0

    user = scim_body(client.post(f"{SCIM}/Users", json=body, headers=scim.headers), 201)
    user_id = user["id"]
    assert user["name"]["formatted"] == "givenName familyName"
    assert user["schemas"] == [USER]  # the extension is accepted and not kept
    assert listed(client, scim, by_name)["Resources"][0]["id"] == user_id

    # Multi-valued and single-valued updates, capitalised, with a value filter in a path.
    changed = scim_body(
        client.patch(
            f"{SCIM}/Users/{user_id}",
            json=operations(
                {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "updatedEmail@microsoft.com"},
                {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
            ),
            headers=scim.headers,
        )
    )
    assert [email["value"] for email in changed["emails"]] == ["updatedEmail@microsoft.com"]
    assert changed["name"]["familyName"] == "updatedFamilyName"
    renamed = f"5b50642d-79fc-4410-9e90-{scim.token_id}@testuser.com"
    single = operations({"op": "Replace", "path": "userName", "value": renamed})
    assert scim_body(client.patch(f"{SCIM}/Users/{user_id}", json=single, headers=scim.headers))["userName"] == renamed

    # The manager, a title and the extension's department: attributes Mihwar does not keep,
    # each a no-op rather than a failure of the PATCH.
    unkept = operations(
        {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": "2819c223-7f76-453a-919d-413861904646"},
        {"op": "Add", "path": "manager", "value": [{"$ref": None, "value": "2819c223"}]},
        {"op": "Replace", "path": "title", "value": "Engineer"},
        {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Roasting"},
    )
    same = scim_body(client.patch(f"{SCIM}/Users/{user_id}", json=unkept, headers=scim.headers))
    assert "title" not in same
    assert ENTERPRISE not in same

    # Disabling sends "False" as a string; the session of the user ends at once.
    session = session_of_user(unit, user_id)
    assert client.get("/mihwar/api/settings/webhooks", headers=session).status_code == 403
    disable = operations({"op": "Replace", "path": "active", "value": "False"})
    assert scim_body(client.patch(f"{SCIM}/Users/{user_id}", json=disable, headers=scim.headers))["active"] is False
    assert client.get("/mihwar/api/settings/webhooks", headers=session).status_code == 401

    assert client.delete(f"{SCIM}/Users/{user_id}", headers=scim.headers).status_code == 204
    assert client.get(f"{SCIM}/Users/{user_id}", headers=scim.headers).status_code == 404
    assert listed(client, scim, filtered("Users", f'userName eq "{renamed}"'))["totalResults"] == 0


def test_entra_creates_a_group_checks_membership_and_removes_members_by_value(
    client: TestClient, scim: ScimCaller
) -> None:
    user_id = scim_body(client.post(f"{SCIM}/Users", json=entra_user(scim.token_id), headers=scim.headers), 201)["id"]
    name = f"displayName {scim.token_id}"
    body = {
        "schemas": [GROUP, ENTRA_GROUP],
        "externalId": f"8aa1a0c0-c4c3-4bc0-b4a5-{scim.token_id}",
        "displayName": name,
        "meta": {"resourceType": "Group"},
    }
    group = scim_body(client.post(f"{SCIM}/Groups", json=body, headers=scim.headers), 201)
    group_id = group["id"]

    read = listed(client, scim, f"Groups/{group_id}?excludedAttributes=members")
    assert read["displayName"] == name
    assert "members" not in read
    found = listed(client, scim, filtered("Groups", f'displayName eq "{name}"', "excludedAttributes=members"))
    assert [entry["id"] for entry in found["Resources"]] == [group_id]

    renamed = f"1879db59-3bdf-4490-ad68-{scim.token_id}updatedDisplayName"
    rename = operations({"op": "Replace", "path": "displayName", "value": renamed})
    assert (
        scim_body(client.patch(f"{SCIM}/Groups/{group_id}", json=rename, headers=scim.headers))["displayName"]
        == renamed
    )

    add = operations({"op": "Add", "path": "members", "value": [{"$ref": None, "value": user_id}]})
    assert client.patch(f"{SCIM}/Groups/{group_id}", json=add, headers=scim.headers).status_code == 200
    check = filtered("Groups", f'id eq "{group_id}" and members eq "{user_id}"', "excludedAttributes=members")
    assert listed(client, scim, check)["totalResults"] == 1

    remove = operations({"op": "Remove", "path": "members", "value": [{"$ref": None, "value": user_id}]})
    assert "members" not in scim_body(client.patch(f"{SCIM}/Groups/{group_id}", json=remove, headers=scim.headers))
    assert listed(client, scim, check)["totalResults"] == 0

    assert client.delete(f"{SCIM}/Groups/{group_id}", headers=scim.headers).status_code == 204
