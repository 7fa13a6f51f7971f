"""SCIM filters as SQL, on real rows: the operators, attribute paths and letter cases that
RFC 7644 §3.4.2.2 defines and that Okta and Entra ID send, and 400 `invalidFilter` for the rest."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from scim2_models import InvalidFilterException
from sqlalchemy import select

from core.unit_of_work import UnitOfWork
from models.mihwar.scim.filters import GROUPS, USERS, where
from models.mihwar.tables import ADMIN, MEMBER, AppUser, Group, GroupMember, UserEmail
from tests.mihwar.conftest import Tenant


@dataclass(frozen=True)
class People:
    ann: str
    bob: str
    cid: str
    admins: str
    staff: str


def add_user(unit: UnitOfWork, tenant: Tenant, user_name: str, **columns: object) -> str:
    emails = columns.pop("emails", [])
    name = columns.pop("name", user_name)
    active = columns.pop("active", True)
    user = AppUser(
        organization_id=tenant.id,
        email=None,
        name=name,
        display_name=name,
        active=active,
        active_stated=active,
        role=MEMBER,
        user_name=user_name,
        user_name_key=user_name.lower(),
        **columns,
    )
    unit.session.add(user)
    unit.session.flush()
    for value, kind in emails:  # type: ignore[attr-defined]
        unit.session.add(UserEmail(user_id=user.id, value=value, value_key=value.lower(), type=kind))
    return user.id


@pytest.fixture
def people(unit: UnitOfWork, tenant: Tenant) -> People:
    ann = add_user(
        unit,
        tenant,
        "Ann.Lee@Example.com",
        external_id="00u1ANN",
        given_name="Ann",
        family_name="Lee",
        emails=[("Ann.Lee@Example.com", "work"), ("ann@home.test", "home")],
        created_at=datetime(2026, 1, 5, tzinfo=UTC),
        updated_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    bob = add_user(
        unit,
        tenant,
        "bob_100%@example.com",
        external_id="00u2BOB",
        given_name="Bob",
        active=False,
        emails=[("bob@home.test", "home")],
        created_at=datetime(2026, 2, 1, tzinfo=UTC),
        updated_at=datetime(2026, 2, 1, tzinfo=UTC),
    )
    cid = add_user(
        unit,
        tenant,
        "Test_User_00aa00aa",
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
        updated_at=datetime(2026, 4, 1, tzinfo=UTC),
    )
    groups = []
    for name, role, members in (("Mihwar Admins", ADMIN, [ann]), ("Store staff", MEMBER, [bob, cid])):
        group = Group(organization_id=tenant.id, display_name=name, display_name_key=name.lower(), role=role)
        unit.session.add(group)
        unit.session.flush()
        unit.session.add_all(GroupMember(group_id=group.id, user_id=member) for member in members)
        groups.append(group.id)
    unit.commit()
    return People(ann, bob, cid, *groups)


def users(unit: UnitOfWork, tenant: Tenant, text: str) -> set[str]:
    query = select(AppUser.id).where(AppUser.organization_id == tenant.id, where(USERS, text))
    return set(unit.session.scalars(query))


def groups(unit: UnitOfWork, tenant: Tenant, text: str) -> set[str]:
    query = select(Group.id).where(Group.organization_id == tenant.id, where(GROUPS, text))
    return set(unit.session.scalars(query))


USER_FILTERS: list[tuple[str, Callable[[People], set[str]]]] = [
    ('userName eq "ann.lee@example.com"', lambda p: {p.ann}),  # caseExact false
    ('USERNAME EQ "ANN.LEE@EXAMPLE.COM"', lambda p: {p.ann}),  # names and operators in any case
    ('userName eq "Test_User_00aa00aa"', lambda p: {p.cid}),
    ('userName eq "8d0b2a3e-1b2f-4a8e-9a51-1f3c2a3b4c5d"', lambda p: set()),  # Entra's test connection
    ('externalId eq "00u1ANN"', lambda p: {p.ann}),
    ('externalId eq "00u1ann"', lambda p: set()),  # caseExact true
    ('emails[type eq "work"].value eq "ann.lee@example.com"', lambda p: {p.ann}),
    ('emails[type eq "work"].value eq "bob@home.test"', lambda p: set()),  # his is a home address
    ('emails.value co "home.test"', lambda p: {p.ann, p.bob}),
    ('emails co "HOME"', lambda p: {p.ann, p.bob}),
    ('emails[type eq "work" and value ew "example.com"]', lambda p: {p.ann}),
    ("emails pr", lambda p: {p.ann, p.bob}),
    ('userName sw "bob_1"', lambda p: {p.bob}),
    ('userName co "100%"', lambda p: {p.bob}),  # % and _ are matched as themselves
    ('userName co "_"', lambda p: {p.bob, p.cid}),
    ('name.givenName eq "ann" or name.familyName eq "nobody"', lambda p: {p.ann}),
    ("externalId pr", lambda p: {p.ann, p.bob}),
    ("not (externalId pr)", lambda p: {p.cid}),
    ("active eq false", lambda p: {p.bob}),
    ("active ne false", lambda p: {p.ann, p.cid}),
    ('meta.lastModified gt "2026-02-15T00:00:00Z"', lambda p: {p.ann, p.cid}),
    ('meta.created le "2026-02-01T00:00:00+00:00"', lambda p: {p.ann, p.bob}),
    ('(userName sw "ann" or userName sw "bob") and active eq true', lambda p: {p.ann}),
    ('title eq "Boss"', lambda p: set()),  # an attribute Mihwar keeps no value of
    ('title ne "Boss"', lambda p: {p.ann, p.bob, p.cid}),
    ("title pr", lambda p: set()),
    ('userName eq "x\' OR 1=1 --"', lambda p: set()),
]


@pytest.mark.parametrize(("text", "expected"), USER_FILTERS, ids=[text for text, _ in USER_FILTERS])
def test_user_filters(
    unit: UnitOfWork, tenant: Tenant, people: People, text: str, expected: Callable[[People], set[str]]
) -> None:
    assert users(unit, tenant, text) == expected(people)


def test_group_filters_and_entras_membership_check(unit: UnitOfWork, tenant: Tenant, people: People) -> None:
    assert groups(unit, tenant, 'displayName eq "mihwar admins"') == {people.admins}
    assert groups(unit, tenant, f'members eq "{people.bob}"') == {people.staff}
    assert groups(unit, tenant, f'members.value eq "{people.ann}"') == {people.admins}
    assert groups(unit, tenant, f'id eq "{people.staff}" and members eq "{people.cid}"') == {people.staff}
    assert groups(unit, tenant, f'id eq "{people.staff}" and members eq "{people.ann}"') == set()
    assert groups(unit, tenant, f'members[value eq "{people.ann}"]') == {people.admins}
    assert groups(unit, tenant, "members pr") == {people.admins, people.staff}


@pytest.mark.parametrize(
    "text",
    [
        "userName eq",
        'userName zz "x"',
        "userName eq 'x'",
        "externalId eq jyoung",  # unquoted, as an old Entra example has it
        'bogus eq "x"',
        'active eq "yes"',
        "active gt true",
        'meta.lastModified gt "yesterday"',
        'meta.created co "2026"',
        'userName eq "a" and',
    ],
)
def test_a_filter_that_cannot_be_used_is_invalid(unit: UnitOfWork, tenant: Tenant, text: str) -> None:
    with pytest.raises(InvalidFilterException) as raised:
        users(unit, tenant, text)

    assert raised.value.to_error().scim_type == "invalidFilter"
