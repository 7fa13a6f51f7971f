"""An organization's users as SCIM User resources: created, read, replaced, patched and
deleted by its identity provider, every change audited.

A user is read into scim2-models' `ScimUser`, changed there (a PUT's body replaces it, a
PATCH's operations apply to it, all or none), and written back, so that what RFC 7643
says of each attribute (types, mutability, letter case) is scim2-models' to check. The
version counts changes and is the ETag; a stale `If-Match` answers 412.

Deprovisioning takes effect at once: `active: false` or DELETE signs the user out of every
session, and a session is checked against the user on every request, on every worker. A
deleted user is kept (their history stays), but is no longer a user nor a SCIM resource.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from scim2_models import (
    Context,
    GroupMembership,
    InvalidValueException,
    Meta,
    Name,
    NotFoundException,
    UniquenessException,
)
from sqlalchemy import delete, func, select, true

from core.columns import aware, utcnow
from core.unit_of_work import UnitOfWork
from models.mihwar.scim.changes import Page, Provisioning, bounded, check_version, etag, patched, unique, validated
from models.mihwar.scim.filters import USERS, where
from models.mihwar.scim.resources import KeptEmail, ScimUser
from models.mihwar.tables import MEMBER, AppUser, BrowserSession, Group, UserEmail
from models.mihwar.tables import GroupMember as Membership

DELETED = "~deleted~"  # a deleted user's userName key is this and its id, freeing the userName
SIGN_IN_ADDRESS_LENGTH = 254  # AppUser.email


class ScimUsers:
    def __init__(self, unit: UnitOfWork, provisioning: Provisioning) -> None:
        self.unit = unit
        self.session = unit.session
        self.provisioning = provisioning

    # Reading -------------------------------------------------------------------------------

    def get(self, user_id: str) -> ScimUser:
        return self.resource(self._user(user_id))

    def search(
        self, filter_text: str | None, start_index: int, count: int, across_types: bool = False
    ) -> Page[ScimUser]:
        """One page of the organization's users, by `userName` then id (stable across pages)."""
        conditions = [AppUser.organization_id == self.provisioning.organization_id, AppUser.deleted_at.is_(None)]
        if filter_text:
            conditions.append(where(USERS, filter_text, across_types=across_types))
        total = self.session.scalar(select(func.count()).select_from(AppUser).where(*conditions)) or 0
        rows = (
            self.session.scalars(
                select(AppUser)
                .where(*conditions)
                .order_by(AppUser.user_name_key, AppUser.id)
                .offset(start_index - 1)
                .limit(count)
            ).all()
            if count
            else []
        )
        return Page(total, self.resources(rows))

    def resource(self, user: AppUser) -> ScimUser:
        return self.resources([user])[0]

    def resources(self, users: Sequence[AppUser]) -> list[ScimUser]:
        """The users as SCIM resources, their emails and groups read in one query each for all."""
        ids = [user.id for user in users]
        emails: dict[str, list[UserEmail]] = {user_id: [] for user_id in ids}
        for email in self.session.scalars(select(UserEmail).where(UserEmail.user_id.in_(ids)).order_by(UserEmail.id)):
            emails[email.user_id].append(email)
        groups: dict[str, list[tuple[str, str]]] = {user_id: [] for user_id in ids}
        for user_id, group_id, name in self.session.execute(
            select(Membership.user_id, Group.id, Group.display_name)
            .join(Membership, Membership.group_id == Group.id)
            .where(Membership.user_id.in_(ids))
            .order_by(Group.display_name_key)
        ):
            groups[user_id].append((group_id, name))
        return [self._resource(user, emails[user.id], groups[user.id]) for user in users]

    def _resource(self, user: AppUser, emails: Sequence[UserEmail], groups: Sequence[tuple[str, str]]) -> ScimUser:
        return ScimUser(
            id=user.id,
            external_id=user.external_id,
            user_name=user.user_name,
            display_name=user.display_name,
            name=Name(formatted=user.formatted_name, given_name=user.given_name, family_name=user.family_name)
            if user.formatted_name or user.given_name or user.family_name
            else None,
            emails=[
                KeptEmail.model_validate({"value": row.value, "type": row.type, "primary": row.primary})
                for row in emails
            ]
            or None,
            active=user.active_stated,
            groups=[
                GroupMembership.model_validate(
                    {"value": group_id, "display": name, "$ref": self.provisioning.location("Group", group_id)}
                )
                for group_id, name in groups
            ]
            or None,
            meta=Meta(
                resource_type="User",
                created=aware(user.created_at),
                last_modified=aware(user.updated_at),
                location=self.provisioning.location("User", user.id),
                version=etag(user.version),
            ),
        )

    # Writing -------------------------------------------------------------------------------

    def create(self, body: Mapping[str, Any]) -> ScimUser:
        given = self._with_default_active(validated(ScimUser, body, Context.RESOURCE_CREATION_REQUEST))
        user = AppUser(
            organization_id=self.provisioning.organization_id,
            role=MEMBER,
            name="",
            user_name="",
            user_name_key="",
            active=True,
        )
        self._store(user, given)
        self._audit("create", user.id, body)
        return self.resource(user)

    def replace(self, user_id: str, body: Mapping[str, Any], if_match: str | None) -> ScimUser:
        user = self._user(user_id, for_update=True)
        check_version(user.version, if_match)
        given = self._with_default_active(validated(ScimUser, body, Context.RESOURCE_REPLACEMENT_REQUEST))
        self._store(user, given, bump=True)
        self._audit("replace", user.id, body)
        return self.resource(user)

    def patch(self, user_id: str, body: Mapping[str, Any], if_match: str | None) -> ScimUser:
        user = self._user(user_id, for_update=True)
        check_version(user.version, if_match)
        current = self.resource(user)
        before = self._kept(current)
        if patched(ScimUser, current, body) and self._kept(current) != before:
            self._store(user, current, bump=True)
        self._audit("patch", user.id, body)
        return self.resource(user)

    def delete(self, user_id: str, if_match: str | None = None) -> None:
        user = self._user(user_id, for_update=True)
        check_version(user.version, if_match)
        user.deleted_at = utcnow()
        user.active = user.active_stated = False
        user.email = None  # the address may be given to someone else
        user.user_name_key = f"{DELETED}{user.id}"  # and so may the userName (the name itself is kept)
        user.version += 1
        self.session.execute(delete(Membership).where(Membership.user_id == user.id))
        self._sign_out(user)
        self._audit("delete", user.id, None)

    # ---------------------------------------------------------------------------------------

    def _user(self, user_id: str, for_update: bool = False) -> AppUser:
        query = select(AppUser).where(
            AppUser.id == user_id,
            AppUser.organization_id == self.provisioning.organization_id,
            AppUser.deleted_at.is_(None),
        )
        user = self.session.scalar(query.with_for_update() if for_update else query)
        if user is None:
            raise NotFoundException(detail=f"No user {user_id}.")
        return user

    def _store(self, user: AppUser, given: ScimUser, bump: bool = False) -> None:
        if not given.user_name:
            raise InvalidValueException(detail="userName is required.")
        key = bounded(given.user_name.lower(), 256, "userName")  # some letters grow in lower case
        taken = self.session.scalar(
            select(AppUser.id).where(
                AppUser.organization_id == self.provisioning.organization_id,
                AppUser.user_name_key == key,
                AppUser.id != user.id if user.id else true(),
            )
        )
        if taken is not None:
            raise UniquenessException(detail=f"The userName {given.user_name!r} is taken.")
        was_active = user.active
        user.user_name, user.user_name_key = bounded(given.user_name, 256, "userName"), key
        if user not in self.session:
            self.session.add(user)  # a new one, once its userName is known to be free
        name = given.name or Name()
        user.external_id = bounded(given.external_id, 256, "externalId")
        user.display_name = bounded(given.display_name, 256, "displayName")
        user.formatted_name = bounded(name.formatted, 256, "name.formatted")
        user.given_name = bounded(name.given_name, 200, "name.givenName")
        user.family_name = bounded(name.family_name, 200, "name.familyName")
        full_name = " ".join(part for part in (name.given_name, name.family_name) if part)
        user.name = (given.display_name or name.formatted or full_name or given.user_name)[:200]
        user.active_stated = given.active
        user.active = given.active is not False
        emails = [email for email in given.emails or [] if email.value]
        for email in emails:
            bounded((email.value or "").lower(), 254, "emails.value")
            bounded(self._type_of(email), 32, "emails.type")
        user.email = self._sign_in_address(user, emails)
        if bump:
            user.version += 1
            user.updated_at = utcnow()
        with unique(f"The userName {given.user_name!r} is taken."):
            self.session.flush()
        self.session.execute(delete(UserEmail).where(UserEmail.user_id == user.id))
        self.session.add_all(
            UserEmail(
                user_id=user.id,
                value=email.value,
                value_key=email.value.lower(),
                type=self._type_of(email),
                primary=email.primary,
            )
            for email in emails
            if email.value
        )
        if was_active and not user.active:
            self._sign_out(user)

    @staticmethod
    def _kept(given: ScimUser) -> tuple[Any, ...]:
        """What of a user Mihwar stores: a PATCH that changes none of it changes no version."""
        name = given.name or Name()
        emails = tuple((email.value, ScimUsers._type_of(email), email.primary) for email in given.emails or [])
        return (
            given.user_name,
            given.external_id,
            given.display_name,
            (name.formatted, name.given_name, name.family_name),
            given.active,
            emails,
        )

    @staticmethod
    def _with_default_active(given: ScimUser) -> ScimUser:
        """A user created or replaced without `active` is active (the spec's default); only a
        PATCH that removes `active` leaves it unassigned (RFC 7644 §3.5.2.2)."""
        if given.active is None:
            given.active = True
        return given

    @staticmethod
    def _type_of(email: KeptEmail) -> str | None:
        return None if email.type is None else str(getattr(email.type, "value", email.type))

    def _sign_in_address(self, user: AppUser, emails: Sequence[KeptEmail]) -> str | None:
        """The primary (or first work, or first) address, if no other user signs in with it."""
        ordered = sorted(emails, key=lambda email: (not email.primary, str(email.type) != "work"))
        for email in ordered:
            address = (email.value or "").strip().lower()
            if not address or len(address) > SIGN_IN_ADDRESS_LENGTH:
                continue
            owner = self.session.scalar(select(AppUser.id).where(AppUser.email == address))
            if owner in (None, user.id):
                return address
        return None

    def _sign_out(self, user: AppUser) -> None:
        self.session.execute(delete(BrowserSession).where(BrowserSession.user_id == user.id))

    def _audit(self, action: str, user_id: str, body: Mapping[str, Any] | None) -> None:
        self.provisioning.audit(self.session, action, "User", user_id, body)
