"""SCIM Users as the directory service keeps them, driven by the bodies Okta and Entra ID send
(their published examples): create, find, replace, patch, deactivate and delete, with
uniqueness, versions, sign-out on deprovisioning and the audit trail. The HTTP layer on top
is in test_scim_protocol.py and the Okta and Entra ID replays."""

from __future__ import annotations

import uuid

import pytest
from scim2_models import (
    Context,
    InvalidValueException,
    NotFoundException,
    PreconditionFailedException,
    UniquenessException,
)
from sqlalchemy import select

from core.problems import Unauthorized
from core.unit_of_work import UnitOfWork
from models.mihwar.accounts import Accounts
from models.mihwar.scim.changes import Provisioning, etag
from models.mihwar.scim.users import ScimUsers
from models.mihwar.tables import ScimAudit
from tests.mihwar.conftest import Tenant

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

OKTA_CREATE = {  # developer.okta.com, SCIM 2.0 protocol reference: "Create the user"
    "schemas": [USER],
    "userName": "test.user@okta.local",
    "name": {"givenName": "Test", "familyName": "User"},
    "emails": [{"primary": True, "value": "test.user@okta.local", "type": "work"}],
    "displayName": "Test User",
    "locale": "en-US",
    "externalId": "00ujl29u0le5T6Aj10h7",
    "groups": [],
    "password": "1mz050nq",
    "active": True,
}
ENTRA_CREATE = {  # learn.microsoft.com, "Develop and plan provisioning for a SCIM endpoint": Create User
    "schemas": [USER, ENTERPRISE],
    "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
    "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
    "active": True,
    "emails": [
        {"primary": True, "type": "work", "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"}
    ],
    "meta": {"resourceType": "User"},
    "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
    "roles": [],
}


@pytest.fixture
def directory(unit: UnitOfWork, tenant: Tenant) -> ScimUsers:
    return ScimUsers(unit, Provisioning(tenant.id, "scimtok_test", "/mihwar/api/scim/v2"))


def dumped(resource: object) -> dict[str, object]:
    return resource.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)  # type: ignore[attr-defined,no-any-return]


def test_okta_creates_finds_and_deactivates_a_user(directory: ScimUsers, unit: UnitOfWork) -> None:
    assert directory.search('userName eq "test.user@okta.local"', 1, 100).total == 0

    created = dumped(directory.create(OKTA_CREATE))
    unit.commit()

    assert created["userName"] == "test.user@okta.local"
    assert created["emails"] == [{"value": "test.user@okta.local", "type": "work", "primary": True}]
    assert created["meta"]["location"] == f"/mihwar/api/scim/v2/Users/{created['id']}"  # type: ignore[index]
    assert "password" not in created
    found = directory.search('userName eq "TEST.USER@okta.local"', 1, 100)
    assert (found.total, found.resources[0].id) == (1, created["id"])
    deactivated = directory.patch(
        str(created["id"]), {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": False}}]}, None
    )
    assert deactivated.active is False
    assert deactivated.meta.version == etag(2)  # type: ignore[union-attr]


def test_a_taken_user_name_in_any_case_is_not_unique(directory: ScimUsers) -> None:
    directory.create(OKTA_CREATE)

    with pytest.raises(UniquenessException):
        directory.create({**OKTA_CREATE, "userName": "TEST.User@OKTA.local"})


def test_entra_patches_as_it_does_by_default(directory: ScimUsers) -> None:
    user_id = str(directory.create(ENTRA_CREATE).id)

    patched = directory.patch(
        user_id,
        {
            "schemas": [PATCH],
            "Operations": [
                {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "updatedEmail@microsoft.com"},
                {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
                {"op": "Add", "path": "nickName", "value": "Babs"},  # not kept: no failure either
                {"op": "Replace", "path": f"{ENTERPRISE}:employeeNumber", "value": "Eqpj"},
                {"op": "Replace", "path": "active", "value": "False"},
            ],
        },
        None,
    )

    assert [email.value for email in patched.emails or []] == ["updatedEmail@microsoft.com"]
    assert patched.name is not None
    assert patched.name.family_name == "updatedFamilyName"
    assert patched.active is False
    assert directory.search('emails[type eq "work"].value eq "updatedemail@microsoft.com"', 1, 10).total == 1


def test_okta_replaces_a_profile_with_put_sending_id_groups_and_meta_back(directory: ScimUsers) -> None:
    created = dumped(directory.create(OKTA_CREATE))

    replaced = directory.replace(
        str(created["id"]),
        {**created, "name": {"givenName": "Another", "familyName": "User"}, "groups": [], "password": "x"},
        etag(1),
    )

    assert replaced.name is not None
    assert replaced.name.given_name == "Another"
    assert replaced.meta.version == etag(2)  # type: ignore[union-attr]


def test_a_stale_if_match_changes_nothing(directory: ScimUsers) -> None:
    user_id = str(directory.create(OKTA_CREATE).id)
    directory.patch(
        user_id, {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "displayName", "value": "A"}]}, None
    )

    with pytest.raises(PreconditionFailedException):
        directory.patch(
            user_id,
            {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "displayName", "value": "B"}]},
            etag(1),
        )
    assert directory.get(user_id).display_name == "A"


def test_a_patch_that_fails_anywhere_changes_nothing(directory: ScimUsers) -> None:
    user_id = str(directory.create(OKTA_CREATE).id)

    with pytest.raises(InvalidValueException):
        directory.patch(
            user_id,
            {
                "schemas": [PATCH],
                "Operations": [
                    {"op": "replace", "path": "displayName", "value": "Changed"},
                    {"op": "replace", "path": "active", "value": "perhaps"},
                ],
            },
            None,
        )
    assert directory.get(user_id).display_name == "Test User"


def test_deprovisioning_signs_the_user_out_at_once_and_delete_keeps_the_row(
    directory: ScimUsers, unit: UnitOfWork
) -> None:
    address = f"{uuid.uuid4().hex[:10]}@okta.local"  # sign-in addresses are unique across organizations
    email = [{"primary": True, "value": address, "type": "work"}]
    user_id = str(directory.create({**OKTA_CREATE, "userName": address, "emails": email}).id)
    accounts = Accounts(unit)
    token = accounts.start_session(accounts.user(address))
    assert accounts.authenticate(token).user_id == user_id

    directory.patch(
        user_id, {"schemas": [PATCH], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}, None
    )
    with pytest.raises(Unauthorized):
        accounts.authenticate(token)

    directory.delete(user_id)
    with pytest.raises(NotFoundException):
        directory.get(user_id)
    assert directory.search(None, 1, 100).total == 0
    actions = unit.session.scalars(select(ScimAudit.action).where(ScimAudit.resource_id == user_id)).all()
    assert list(actions) == ["create", "patch", "delete"]
    audit = unit.session.scalars(select(ScimAudit).where(ScimAudit.resource_id == user_id)).first()
    assert audit is not None
    assert audit.token_id == "scimtok_test"
    assert "password" not in (audit.changes or {})


def test_a_page_past_the_end_and_a_count_of_zero(directory: ScimUsers) -> None:
    for number in range(3):
        directory.create({**OKTA_CREATE, "userName": f"u{number}@okta.local", "emails": []})

    assert [user.user_name for user in directory.search(None, 2, 2).resources] == ["u1@okta.local", "u2@okta.local"]
    assert directory.search(None, 10, 2).resources == []
    zero = directory.search(None, 1, 0)
    assert (zero.total, zero.resources) == (3, [])
