"""An organization's groups as SCIM Group resources: each group is a role.

Membership decides what a user may do in Mihwar: a member of a group whose role is ADMIN
is an administrator, a member of groups of MEMBER only is a member, and the change takes
effect with the request that makes it (a session reads the user's role on every request).
A group's role comes from its name, whenever it is named (created or renamed): the names
in `admin_groups` (MIHWAR_SCIM_ADMIN_GROUPS, any letter case) make administrators, any
other name members.
Display names are unique in an organization (Entra ID matches groups by them).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from scim2_models import (
    Context,
    InvalidValueException,
    Meta,
    NotFoundException,
    UniquenessException,
)
from scim2_models import GroupMember as ScimMember
from sqlalchemy import delete, func, select, true

from core.columns import aware, utcnow
from core.unit_of_work import UnitOfWork
from models.mihwar.scim.changes import Page, Provisioning, bounded, check_version, etag, patched, unique, validated
from models.mihwar.scim.filters import GROUPS, where
from models.mihwar.scim.resources import ScimGroup
from models.mihwar.tables import ADMIN, MEMBER, AppUser, Group, GroupMember


class ScimGroups:
    def __init__(self, unit: UnitOfWork, provisioning: Provisioning, admin_groups: Collection[str]) -> None:
        self.unit = unit
        self.session = unit.session
        self.provisioning = provisioning
        self.admin_groups = {name.lower() for name in admin_groups}

    def get(self, group_id: str) -> ScimGroup:
        return self.resource(self._group(group_id))

    def search(
        self, filter_text: str | None, start_index: int, count: int, across_types: bool = False
    ) -> Page[ScimGroup]:
        conditions = [Group.organization_id == self.provisioning.organization_id]
        if filter_text:
            conditions.append(where(GROUPS, filter_text, across_types=across_types))
        total = self.session.scalar(select(func.count()).select_from(Group).where(*conditions)) or 0
        rows = (
            self.session.scalars(
                select(Group)
                .where(*conditions)
                .order_by(Group.display_name_key, Group.id)
                .offset(start_index - 1)
                .limit(count)
            ).all()
            if count
            else []
        )
        return Page(total, self.resources(rows))

    def resource(self, group: Group) -> ScimGroup:
        return self.resources([group])[0]

    def resources(self, groups: Sequence[Group]) -> list[ScimGroup]:
        """The groups as SCIM resources, their members read in one query for all."""
        members: dict[str, list[str]] = {group.id: [] for group in groups}
        for group_id, user_id in self.session.execute(
            select(GroupMember.group_id, AppUser.id)
            .join(AppUser, GroupMember.user_id == AppUser.id)
            .where(GroupMember.group_id.in_(list(members)))
            .order_by(AppUser.user_name_key)
        ):
            members[group_id].append(user_id)
        return [self._resource(group, members[group.id]) for group in groups]

    def _resource(self, group: Group, members: Sequence[str]) -> ScimGroup:
        return ScimGroup(
            id=group.id,
            external_id=group.external_id,
            display_name=group.display_name,
            members=[
                ScimMember.model_validate(
                    {"value": user_id, "type": "User", "$ref": self.provisioning.location("User", user_id)}
                )
                for user_id in members
            ],
            meta=Meta(
                resource_type="Group",
                created=aware(group.created_at),
                last_modified=aware(group.updated_at),
                location=self.provisioning.location("Group", group.id),
                version=etag(group.version),
            ),
        )

    def create(self, body: Mapping[str, Any]) -> ScimGroup:
        given = validated(ScimGroup, body, Context.RESOURCE_CREATION_REQUEST)
        group = Group(
            organization_id=self.provisioning.organization_id, role=MEMBER, display_name="", display_name_key=""
        )
        self._store(group, given)
        self._audit("create", group.id, body)
        return self.resource(group)

    def replace(self, group_id: str, body: Mapping[str, Any], if_match: str | None) -> ScimGroup:
        group = self._group(group_id, for_update=True)
        check_version(group.version, if_match)
        self._store(group, validated(ScimGroup, body, Context.RESOURCE_REPLACEMENT_REQUEST), bump=True)
        self._audit("replace", group.id, body)
        return self.resource(group)

    def patch(self, group_id: str, body: Mapping[str, Any], if_match: str | None) -> ScimGroup:
        group = self._group(group_id, for_update=True)
        check_version(group.version, if_match)
        current = self.resource(group)
        before = self._kept(current)
        if patched(ScimGroup, current, body) and self._kept(current) != before:
            self._store(group, current, bump=True)
        self._audit("patch", group.id, body)
        return self.resource(group)

    def delete(self, group_id: str, if_match: str | None = None) -> None:
        group = self._group(group_id, for_update=True)
        check_version(group.version, if_match)
        former = set(self.session.scalars(select(GroupMember.user_id).where(GroupMember.group_id == group.id)))
        self.session.execute(delete(GroupMember).where(GroupMember.group_id == group.id))
        self.session.delete(group)
        self.session.flush()
        self._recompute_roles(former)
        self._audit("delete", group_id, None)

    # ---------------------------------------------------------------------------------------

    def _group(self, group_id: str, for_update: bool = False) -> Group:
        query = select(Group).where(Group.id == group_id, Group.organization_id == self.provisioning.organization_id)
        group = self.session.scalar(query.with_for_update() if for_update else query)
        if group is None:
            raise NotFoundException(detail=f"No group {group_id}.")
        return group

    def _store(self, group: Group, given: ScimGroup, bump: bool = False) -> None:
        name = (given.display_name or "").strip()
        if not name:
            raise InvalidValueException(detail="displayName is required.")
        taken = self.session.scalar(
            select(Group.id).where(
                Group.organization_id == self.provisioning.organization_id,
                Group.display_name_key == name.lower(),
                Group.id != group.id if group.id else true(),
            )
        )
        if taken is not None:
            raise UniquenessException(detail=f"The displayName {name!r} is taken.")
        group.display_name = bounded(name, 256, "displayName")
        group.display_name_key = bounded(name.lower(), 256, "displayName")  # some letters grow in lower case
        group.external_id = bounded(given.external_id, 256, "externalId")
        role = ADMIN if name.lower() in self.admin_groups else MEMBER  # a rename may change it
        renamed_role, group.role = group.role != role, role
        if group not in self.session:
            self.session.add(group)  # a new one, once its name is known to be free
        if bump:
            group.version += 1
            group.updated_at = utcnow()
        with unique(f"The displayName {name!r} is taken."):
            self.session.flush()
        wanted = {member.value for member in given.members or [] if member.value}
        self._check_members(wanted)
        current = set(self.session.scalars(select(GroupMember.user_id).where(GroupMember.group_id == group.id)))
        if wanted - current:
            self.session.add_all(GroupMember(group_id=group.id, user_id=user_id) for user_id in wanted - current)
        if current - wanted:
            self.session.execute(
                delete(GroupMember).where(GroupMember.group_id == group.id, GroupMember.user_id.in_(current - wanted))
            )
        self.session.flush()
        self._recompute_roles((wanted | current) if renamed_role else (wanted ^ current))

    @staticmethod
    def _kept(given: ScimGroup) -> tuple[Any, ...]:
        """What of a group Mihwar stores: a PATCH that changes none of it changes no version."""
        members = frozenset(member.value for member in given.members or [] if member.value)
        return given.display_name, given.external_id, members

    def _check_members(self, user_ids: set[str]) -> None:
        if not user_ids:
            return
        known = set(
            self.session.scalars(
                select(AppUser.id).where(
                    AppUser.id.in_(user_ids),
                    AppUser.organization_id == self.provisioning.organization_id,
                    AppUser.deleted_at.is_(None),
                )
            )
        )
        if unknown := sorted(user_ids - known):
            raise InvalidValueException(detail=f"No user {', '.join(unknown)} in this organization.")

    def _recompute_roles(self, user_ids: Iterable[str]) -> None:
        """Each user's role from their groups now: ADMIN if any of them is an admin group.
        The users are locked first, in id order, so that two requests changing the groups of
        one user (from two groups at once) recompute one after the other, each seeing the
        other's memberships once committed."""
        ids = sorted(set(user_ids))
        if ids:
            self.session.execute(select(AppUser.id).where(AppUser.id.in_(ids)).order_by(AppUser.id).with_for_update())
        for user_id in ids:
            admin = self.session.scalar(
                select(Group.id)
                .join(GroupMember, GroupMember.group_id == Group.id)
                .where(GroupMember.user_id == user_id, Group.role == ADMIN)
                .limit(1)
            )
            user = self.session.get(AppUser, user_id)
            if user is not None:
                user.role = ADMIN if admin is not None else MEMBER
        self.session.flush()

    def _audit(self, action: str, group_id: str, body: Mapping[str, Any] | None) -> None:
        self.provisioning.audit(self.session, action, "Group", group_id, body)
