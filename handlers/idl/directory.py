"""Users, projects and cost codes (JobCost), vendors (Timberline), and the audit trail."""

from __future__ import annotations

from datetime import date

from core.problems import NotFound
from core.responses import Json, json_body
from core.unit_of_work import current_unit
from handlers.idl import dto
from models.idl.accounts import SignedIn, Users
from models.idl.audit import AuditLog
from models.idl.reference import Reference
from models.idl.repositories import UserFilter
from models.shared.audit import AuditFilter


def list_users(
    page: int = 1,
    limit: int = 20,
    role: str | None = None,
    active: bool | None = None,
    search: str | None = None,
) -> Json:
    """List users (admins and project managers, as the spec's `x-roles` says)."""
    users, total = Users(current_unit()).page(UserFilter(role, active, search or None), page, limit)
    return json_body({"data": dto.users.dump(users), "pagination": dto.pagination(page, limit, total)})


def get_current_user(principal: SignedIn) -> Json:
    """The caller's own profile."""
    return json_body(dto.profile.dump(principal.caller))


def list_projects(principal: SignedIn, active: bool = True, search: str | None = None) -> Json:
    """List the caller's projects (every project for an admin), with what they have spent."""
    caller = principal.caller
    scope = None if caller.is_admin else caller.project_ids
    projects = Reference(current_unit()).projects(scope, active, search or None)
    return json_body({"data": dto.projects.dump(projects)})


def list_project_cost_codes(principal: SignedIn, id: str) -> Json:  # noqa: A002 - the spec names it `id`
    """List a project's cost codes, with what they have spent."""
    reference = Reference(current_unit())
    if not principal.caller.works_on(id) or reference.project(id) is None:
        raise NotFound(f"Project {id} was not found")
    return json_body({"data": dto.cost_codes.dump(reference.cost_codes(id))})


def list_vendors(active: bool | None = None, search: str | None = None) -> Json:
    """List vendors."""
    vendors = Reference(current_unit()).vendors(active, search or None)
    return json_body({"data": dto.vendors.dump(vendors)})


def list_audit_logs(
    page: int = 1,
    limit: int = 50,
    entity_type: str | None = None,
    entity_id: str | None = None,
    user_id: int | None = None,
    action: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> Json:
    """Read the audit trail, newest first (admins, as the spec's `x-roles` says)."""
    start = date.fromisoformat(date_from) if date_from else None
    end = date.fromisoformat(date_to) if date_to else None
    where = AuditFilter(entity_type, entity_id, user_id, action, start, end)
    entries, total = AuditLog(current_unit()).page(where, page, limit)
    return json_body({"data": dto.audit_entries.dump(entries), "pagination": dto.pagination(page, limit, total)})
