"""SCIM edges an identity provider reaches sooner or later: passwords kept out of the audit,
a deleted userName provisioned again, names that grow when lower-cased, renamed groups
changing their members' role, Entra ID's replace of several paths at once, filters over
groups and `not` over missing values, nulls, no-op PATCHes, and two requests changing one
user's groups at once (on PostgreSQL)."""

from __future__ import annotations

import os
import threading
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from core.config import Settings
from core.database import Database
from core.unit_of_work import UnitOfWork
from models.mihwar.scim.changes import Provisioning
from models.mihwar.scim.groups import ScimGroups
from models.mihwar.scim.users import ScimUsers
from models.mihwar.tables import ADMIN, MEMBER, AppUser, ScimAudit
from tests.mihwar.conftest import SCIM, ScimCaller, scim_body, scim_error, session_of_user

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SETTINGS = "/mihwar/api/settings/webhooks"


def create(client: TestClient, scim: ScimCaller, what: str, body: dict[str, Any]) -> dict[str, Any]:
    return scim_body(client.post(f"{SCIM}/{what}", json=body, headers=scim.headers), 201)


def patch(client: TestClient, scim: ScimCaller, path: str, *operations: dict[str, Any]) -> Any:
    return client.patch(
        f"{SCIM}/{path}", json={"schemas": [PATCH], "Operations": list(operations)}, headers=scim.headers
    )


def search(client: TestClient, scim: ScimCaller, filter_text: str) -> list[str]:
    found = scim_body(client.get(f"{SCIM}/Users?filter={quote(filter_text)}", headers=scim.headers))
    return [entry["id"] for entry in found["Resources"]]


def test_no_password_reaches_the_audit_trail(client: TestClient, scim: ScimCaller, unit: UnitOfWork) -> None:
    user = create(client, scim, "Users", {"userName": f"pw.{scim.token_id}", "password": "Create-S3cret"})
    patch(client, scim, f"Users/{user['id']}", {"op": "replace", "path": "password", "value": "Path-S3cret"})
    patch(client, scim, f"Users/{user['id']}", {"op": "replace", "value": {"password": "Value-S3cret"}})

    recorded = unit.session.scalars(select(ScimAudit.changes).where(ScimAudit.resource_id == user["id"])).all()
    assert len(recorded) == 3
    assert "S3cret" not in repr(recorded)


def test_a_deleted_user_name_may_be_provisioned_again(client: TestClient, scim: ScimCaller) -> None:
    body = {"userName": f"again.{scim.token_id}@example.com"}
    first = create(client, scim, "Users", body)
    assert client.delete(f"{SCIM}/Users/{first['id']}", headers=scim.headers).status_code == 204

    second = create(client, scim, "Users", body)
    assert second["id"] != first["id"]
    assert search(client, scim, f'userName eq "{body["userName"]}"') == [second["id"]]


def test_a_name_that_grows_in_lower_case_past_its_column_is_refused(client: TestClient, scim: ScimCaller) -> None:
    grows = "İ" * 200  # 200 characters, 400 in lower case
    scim_error(client.post(f"{SCIM}/Users", json={"userName": grows}, headers=scim.headers), 400, "invalidValue")
    scim_error(client.post(f"{SCIM}/Groups", json={"displayName": grows}, headers=scim.headers), 400, "invalidValue")
    too_long_email = {"userName": f"e.{scim.token_id}", "emails": [{"value": "İ" * 130 + "@x.test"}]}
    scim_error(client.post(f"{SCIM}/Users", json=too_long_email, headers=scim.headers), 400, "invalidValue")


def test_renaming_a_group_to_or_from_the_admin_group_changes_its_members_role(
    client: TestClient, scim: ScimCaller, unit: UnitOfWork
) -> None:
    user = create(client, scim, "Users", {"userName": f"rename.{scim.token_id}"})
    group = create(client, scim, "Groups", {"displayName": f"Ops {scim.token_id}", "members": [{"value": user["id"]}]})
    session = session_of_user(unit, user["id"])
    assert client.get(SETTINGS, headers=session).status_code == 403

    to_admin = {"op": "replace", "value": {"id": group["id"], "displayName": "Mihwar Admins"}}  # Okta's rename
    assert patch(client, scim, f"Groups/{group['id']}", to_admin).status_code == 200
    assert client.get(SETTINGS, headers=session).status_code == 200

    away = {"op": "replace", "path": "displayName", "value": "Former admins"}
    assert patch(client, scim, f"Groups/{group['id']}", away).status_code == 200
    assert client.get(SETTINGS, headers=session).status_code == 403


def test_entra_replaces_several_paths_in_one_value_object(client: TestClient, scim: ScimCaller) -> None:
    user = create(
        client,
        scim,
        "Users",
        {"userName": f"multi.{scim.token_id}", "emails": [{"value": "old@x.test", "type": "work", "primary": True}]},
    )
    value = {"displayName": "Pvlo", 'emails[type eq "work"].value': "new@x.test", "name.givenName": "Henry"}
    changed = scim_body(patch(client, scim, f"Users/{user['id']}", {"op": "Replace", "value": value}))

    assert changed["displayName"] == "Pvlo"
    assert changed["name"]["givenName"] == "Henry"
    assert [email["value"] for email in changed["emails"]] == ["new@x.test"]


def test_users_are_found_by_group_and_not_over_a_missing_value_is_true(client: TestClient, scim: ScimCaller) -> None:
    tag = scim.token_id
    with_id = create(client, scim, "Users", {"userName": f"ext.{tag}", "externalId": "zzz"})
    without = create(client, scim, "Users", {"userName": f"noext.{tag}"})
    group = create(client, scim, "Groups", {"displayName": f"G {tag}", "members": [{"value": without["id"]}]})

    assert search(client, scim, f'groups eq "{group["id"]}"') == [without["id"]]
    assert search(client, scim, f'groups[value eq "{group["id"]}"]') == [without["id"]]
    assert search(client, scim, f'userName ew "{tag}" and not (externalId eq "zzz")') == [without["id"]]
    assert search(client, scim, f'userName ew "{tag}" and externalId eq "zzz"') == [with_id["id"]]


def test_null_is_an_attribute_without_a_value(client: TestClient, scim: ScimCaller) -> None:
    body = {"userName": f"null.{scim.token_id}", "externalId": None, "name": None, "emails": None, "active": None}
    user = create(client, scim, "Users", body)
    assert "externalId" not in user
    assert user["active"] is True  # the default of a created user


def test_a_patch_of_attributes_mihwar_does_not_keep_changes_no_version(client: TestClient, scim: ScimCaller) -> None:
    user = create(client, scim, "Users", {"userName": f"noop.{scim.token_id}"})
    unkept = {"op": "replace", "path": "title", "value": "Engineer"}
    for _ in range(2):
        answer = patch(client, scim, f"Users/{user['id']}", unkept)
        assert answer.headers["ETag"] == user["meta"]["version"]


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"), reason="needs PostgreSQL")
def test_two_requests_removing_a_user_from_two_admin_groups_at_once_leave_a_member(
    mihwar_db: Database, database: Settings, scim: ScimCaller
) -> None:
    provisioning = Provisioning(scim.tenant.id, scim.token_id, SCIM)
    admin_groups = (f"Admins A {scim.token_id}", f"Admins B {scim.token_id}")
    with UnitOfWork(mihwar_db, database) as unit:
        user = ScimUsers(unit, provisioning).create({"userName": f"race.{scim.token_id}"})
        groups = ScimGroups(unit, provisioning, admin_groups)
        ids = [str(groups.create({"displayName": name, "members": [{"value": user.id}]}).id) for name in admin_groups]
        unit.commit()
    removed = threading.Event()
    errors: list[BaseException] = []

    def remove_all(group_id: str, first: bool) -> None:
        try:
            if not first:
                removed.wait(5)
            with UnitOfWork(mihwar_db, database) as unit:
                body = {"schemas": [PATCH], "Operations": [{"op": "remove", "path": "members"}]}
                ScimGroups(unit, provisioning, admin_groups).patch(group_id, body, None)
                if first:
                    removed.set()
                    threading.Event().wait(0.5)  # holds its locks while the other request starts
                unit.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=remove_all, args=(ids[0], True)),
        threading.Thread(target=remove_all, args=(ids[1], False)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with UnitOfWork(mihwar_db, database) as unit:
        kept = unit.session.get(AppUser, str(user.id))
        assert kept is not None
        assert kept.role == MEMBER != ADMIN
