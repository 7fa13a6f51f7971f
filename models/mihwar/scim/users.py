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
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from scim2_models import (
    Context,
    GroupMembership,
    InvalidValueException,
    Meta,
    Name,
    NotFoundException,
    PatchOp,
    PreconditionFailedException,
    UniquenessException,
)
from sqlalchemy import delete, func, select

from core.columns import aware, utcnow
from core.unit_of_work import UnitOfWork
from models.mihwar.scim.filters import USERS, where
from models.mihwar.scim.resources import POLICY, KeptEmail, ScimUser
from models.mihwar.tables import MEMBER, AppUser, BrowserSession, Group, ScimAudit, UserEmail
from models.mihwar.tables import GroupMember as Membership


@dataclass(frozen=True)
class Provisioning:
    """Who provisions (an organization, by one of its SCIM tokens), and where its resources live."""

    organization_id: str
    token_id: str
    base_url: str  # of the SCIM endpoints, for `meta.location`

    def location(self, resource_type: str, resource_id: str) -> str:
        return f"{self.base_url}/{resource_type}s/{resource_id}"


@dataclass(frozen=True)
class Page:
    total: int
    users: Sequence[ScimUser]


def etag(version: int) -> str:
    return f'W/"{version}"'


def check_version(version: int, if_match: str | None) -> None:
    """RFC 7644 §3.14: a write with an `If-Match` that names no current version answers 412."""
    if if_match is None:
        return
    wanted = {tag.strip() for tag in if_match.split(",")}
    if "*" not in wanted and etag(version) not in wanted and f'"{version}"' not in wanted:
        raise PreconditionFailedException(detail="The resource has changed since that version.")


class ScimUsers:
    def __init__(self, unit: UnitOfWork, provisioning: Provisioning) -> None:
        self.unit = unit
        self.session = unit.session
        self.provisioning = provisioning

    # Reading -------------------------------------------------------------------------------

    def get(self, user_id: str) -> ScimUser:
        return self.resource(self._user(user_id))

    def search(self, filter_text: str | None, start_index: int, count: int) -> Page:
        """One page of the organization's users, by `userName` then id (stable across pages)."""
        conditions = [AppUser.organization_id == self.provisioning.organization_id, AppUser.deleted_at.is_(None)]
        if filter_text:
            conditions.append(where(USERS, filter_text))
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
        return Page(total, [self.resource(row) for row in rows])

    def resource(self, user: AppUser) -> ScimUser:
        emails = self.session.scalars(select(UserEmail).where(UserEmail.user_id == user.id).order_by(UserEmail.id))
        groups = self.session.execute(
            select(Group.id, Group.display_name)
            .join(Membership, Membership.group_id == Group.id)
            .where(Membership.user_id == user.id)
            .order_by(Group.display_name_key)
        ).all()
        return ScimUser(
            id=user.id,
            external_id=user.external_id,
            user_name=user.user_name,
            display_name=user.name,
            name=Name(given_name=user.given_name, family_name=user.family_name)
            if user.given_name or user.family_name
            else None,
            emails=[
                KeptEmail.model_validate({"value": row.value, "type": row.type, "primary": row.primary or None})
                for row in emails
            ]
            or None,
            active=user.active,
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
        given = _validated(body, Context.RESOURCE_CREATION_REQUEST)
        user = AppUser(
            organization_id=self.provisioning.organization_id,
            role=MEMBER,
            name="",
            user_name="",
            user_name_key="",
            active=True,
        )
        self.session.add(user)
        self._store(user, given)
        self._audit("create", user.id, body)
        return self.resource(user)

    def replace(self, user_id: str, body: Mapping[str, Any], if_match: str | None) -> ScimUser:
        user = self._user(user_id, for_update=True)
        check_version(user.version, if_match)
        given = _validated(body, Context.RESOURCE_REPLACEMENT_REQUEST)
        self._store(user, given, bump=True)
        self._audit("replace", user.id, body)
        return self.resource(user)

    def patch(self, user_id: str, body: Mapping[str, Any], if_match: str | None) -> ScimUser:
        user = self._user(user_id, for_update=True)
        check_version(user.version, if_match)
        current = self.resource(user)
        try:
            operations = PatchOp[ScimUser].model_validate(
                body, scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY
            )
        except ValidationError as exc:
            raise InvalidValueException(detail=_first_error(exc)) from None
        if operations.patch(current, scim_policy=POLICY):
            self._store(user, current, bump=True)
        self._audit("patch", user.id, body)
        return self.resource(user)

    def delete(self, user_id: str) -> None:
        user = self._user(user_id, for_update=True)
        user.deleted_at = utcnow()
        user.active = False
        user.email = None  # the address may be given to someone else
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
        key = given.user_name.lower()
        taken = self.session.scalar(
            select(AppUser.id).where(
                AppUser.organization_id == self.provisioning.organization_id,
                AppUser.user_name_key == key,
                AppUser.id != user.id,
            )
        )
        if taken is not None:
            raise UniquenessException(detail=f"The userName {given.user_name!r} is taken.")
        was_active = user.active
        user.user_name, user.user_name_key = given.user_name, key
        user.external_id = given.external_id
        user.given_name = given.name.given_name if given.name else None
        user.family_name = given.name.family_name if given.name else None
        user.name = (given.display_name or (given.name.formatted if given.name else None) or given.user_name)[:200]
        user.active = given.active is not False
        emails = [email for email in given.emails or [] if email.value]
        user.email = self._sign_in_address(user, emails)
        if bump:
            user.version += 1
            user.updated_at = utcnow()
        self.session.flush()
        self.session.execute(delete(UserEmail).where(UserEmail.user_id == user.id))
        self.session.add_all(
            UserEmail(
                user_id=user.id,
                value=email.value,
                value_key=email.value.lower(),
                type=None if email.type is None else str(getattr(email.type, "value", email.type)),
                primary=bool(email.primary),
            )
            for email in emails
            if email.value
        )
        if was_active and not user.active:
            self._sign_out(user)

    def _sign_in_address(self, user: AppUser, emails: Sequence[KeptEmail]) -> str | None:
        """The primary (or first work, or first) address, if no other user signs in with it."""
        ordered = sorted(emails, key=lambda email: (not email.primary, str(email.type) != "work"))
        for email in ordered:
            address = (email.value or "").strip().lower()
            owner = self.session.scalar(select(AppUser.id).where(AppUser.email == address))
            if address and owner in (None, user.id):
                return address
        return None

    def _sign_out(self, user: AppUser) -> None:
        self.session.execute(delete(BrowserSession).where(BrowserSession.user_id == user.id))

    def _audit(self, action: str, user_id: str, body: Mapping[str, Any] | None) -> None:
        self.session.add(
            ScimAudit(
                organization_id=self.provisioning.organization_id,
                token_id=self.provisioning.token_id,
                action=action,
                resource_type="User",
                resource_id=user_id,
                changes=_without_secrets(body),
            )
        )
        self.session.flush()


def _validated(body: Mapping[str, Any], context: Context) -> ScimUser:
    try:
        return ScimUser.model_validate(dict(body), scim_ctx=context, scim_policy=POLICY)
    except ValidationError as exc:
        raise InvalidValueException(detail=_first_error(exc)) from None


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where_ = ".".join(str(step) for step in error.get("loc", ()))
    return f"{where_}: {error.get('msg', 'invalid')}" if where_ else str(error.get("msg", "invalid"))


def _without_secrets(body: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """What the audit keeps of a request: everything but a password."""
    if body is None:
        return None
    return {key: value for key, value in body.items() if key.lower() != "password"}
