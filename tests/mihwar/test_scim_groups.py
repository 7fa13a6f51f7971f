"""SCIM Groups as roles, driven by the group pushes of Okta and Entra ID (their published
examples): create, rename, add and remove members in each IdP's forms, delete, and the
role each membership gives, in effect at once."""

from __future__ import annotations

import uuid

import pytest
from scim2_models import Context, InvalidValueException, NotFoundException, ResponseParameters, UniquenessException

from core.unit_of_work import UnitOfWork
from models.mihwar.accounts import Accounts
from models.mihwar.scim.changes import Provisioning
from models.mihwar.scim.groups import ScimGroups
from models.mihwar.scim.resources import ScimGroup
from models.mihwar.scim.users import ScimUsers
from models.mihwar.tables import ADMIN, MEMBER, AppUser
from tests.mihwar.conftest import Tenant

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


@pytest.fixture
def provisioning(tenant: Tenant) -> Provisioning:
    return Provisioning(tenant.id, "scimtok_test", "/mihwar/api/scim/v2")


@pytest.fixture
def groups(unit: UnitOfWork, provisioning: Provisioning) -> ScimGroups:
    return ScimGroups(unit, provisioning, admin_groups=["Mihwar Admins"])


def new_user(unit: UnitOfWork, provisioning: Provisioning) -> str:
    address = f"{uuid.uuid4().hex[:10]}@okta.local"
    body = {"userName": address, "emails": [{"value": address, "type": "work", "primary": True}], "active": True}
    return str(ScimUsers(unit, provisioning).create(body).id)


def role_of(unit: UnitOfWork, user_id: str) -> str:
    unit.session.expire_all()
    user = unit.session.get(AppUser, user_id)
    assert user is not None
    return user.role


def members(groups: ScimGroups, group_id: str) -> set[str]:
    return {member.value for member in groups.get(group_id).members or [] if member.value}


def test_okta_pushes_a_group_renames_it_and_changes_its_members(
    groups: ScimGroups, unit: UnitOfWork, provisioning: Provisioning
) -> None:
    ann, bob = new_user(unit, provisioning), new_user(unit, provisioning)
    created = groups.create({"schemas": [GROUP], "displayName": "Test SCIMv2", "members": []})
    group_id = str(created.id)

    groups.patch(  # sent before every membership push
        group_id,
        {
            "schemas": [PATCH],
            "Operations": [{"op": "replace", "value": {"id": group_id, "displayName": "Test SCIMv20"}}],
        },
        None,
    )
    groups.patch(
        group_id,
        {
            "schemas": [PATCH],
            "Operations": [
                {"op": "remove", "path": f'members[value eq "{bob}"]'},
                {"op": "add", "path": "members", "value": [{"value": ann, "display": "ann"}]},
            ],
        },
        None,
    )
    assert members(groups, group_id) == {ann}
    groups.patch(
        group_id,
        {
            "schemas": [PATCH],
            "Operations": [{"op": "replace", "path": "members", "value": [{"value": ann}, {"value": bob}]}],
        },
        None,
    )

    assert groups.get(group_id).display_name == "Test SCIMv20"
    assert members(groups, group_id) == {ann, bob}
    groups.delete(group_id)
    with pytest.raises(NotFoundException):
        groups.get(group_id)


def test_entra_creates_with_its_own_schema_and_removes_members_by_value_list(
    groups: ScimGroups, unit: UnitOfWork, provisioning: Provisioning
) -> None:
    ann = new_user(unit, provisioning)
    created = groups.create(
        {
            "schemas": [GROUP, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "displayName",
            "meta": {"resourceType": "Group"},
        }
    )
    group_id = str(created.id)
    add = {
        "schemas": [PATCH],
        "Operations": [{"op": "Add", "path": "members", "value": [{"$ref": None, "value": ann}]}],
    }
    groups.patch(group_id, add, None)
    assert groups.search(f'id eq "{group_id}" and members eq "{ann}"', 1, 100).total == 1

    remove = {
        "schemas": [PATCH],
        "Operations": [{"op": "Remove", "path": "members", "value": [{"$ref": None, "value": ann}]}],
    }
    groups.patch(group_id, remove, None)

    assert members(groups, group_id) == set()
    listed = groups.search('displayName eq "DISPLAYNAME"', 1, 100).resources[0]
    shown = listed.model_dump(
        scim_ctx=Context.RESOURCE_QUERY_RESPONSE,
        response_parameters=ResponseParameters[ScimGroup].model_validate({"excludedAttributes": "members"}),
    )
    assert "members" not in shown


def test_membership_of_an_admin_group_makes_an_administrator_at_once(
    groups: ScimGroups, unit: UnitOfWork, provisioning: Provisioning
) -> None:
    address = f"{uuid.uuid4().hex[:10]}@okta.local"
    body = {"userName": address, "emails": [{"value": address, "type": "work", "primary": True}]}
    user_id = str(ScimUsers(unit, provisioning).create(body).id)
    accounts = Accounts(unit)
    token = accounts.start_session(accounts.user(address))
    admins = str(groups.create({"displayName": "mihwar admins"}).id)  # any letter case
    staff = str(groups.create({"displayName": "Store staff", "members": [{"value": user_id}]}).id)
    assert role_of(unit, user_id) == MEMBER

    groups.patch(
        admins,
        {"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": user_id}]}]},
        None,
    )
    assert role_of(unit, user_id) == ADMIN
    assert accounts.authenticate(token).roles == frozenset({ADMIN})

    groups.delete(admins)
    assert role_of(unit, user_id) == MEMBER
    assert members(groups, staff) == {user_id}


def test_names_are_unique_and_members_must_be_users_of_the_organization(
    groups: ScimGroups, unit: UnitOfWork, provisioning: Provisioning
) -> None:
    groups.create({"displayName": "Buyers"})

    with pytest.raises(UniquenessException):
        groups.create({"displayName": "BUYERS"})
    with pytest.raises(InvalidValueException):
        groups.create({"displayName": "Sellers", "members": [{"value": "user_nobody"}]})
