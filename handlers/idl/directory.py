"""Users, projects and cost codes (JobCost), vendors (Timberline), and the audit trail."""

from __future__ import annotations

from datetime import date
from typing import Any

from core.problems import Forbidden, NotFound
from core.responses import json_body
from core.unit_of_work import current_unit
from handlers.idl import dto
from handlers.idl.context import caller
from models.idl.accounts import REALM, UserFilter, Users
from models.idl.reference import Reference
from models.idl.roles import ADMIN, PM
from models.shared.audit import AuditFilter, AuditTrail

Json = tuple[Any, int, dict[str, str]]


def list_users(
    token_info: dict[str, Any],
    page: int = 1,
    limit: int = 20,
    role: str | None = None,
    active: bool | None = None,
    search: str | None = None,
) -> Json:
    principal = caller(token_info)
    if principal.user.role not in (ADMIN, PM):
        raise Forbidden("Only admins and project managers may list users")
    users, total = Users(current_unit()).page(UserFilter(role, active, search or None), page, limit)
    return json_body({"data": [dto.user(user) for user in users], "pagination": dto.pagination(page, limit, total)})


def get_current_user(token_info: dict[str, Any]) -> Json:
    return json_body(dto.profile(caller(token_info).user))


def list_projects(token_info: dict[str, Any], active: bool = True, search: str | None = None) -> Json:
    principal = caller(token_info)
    scope = None if principal.is_admin else principal.user.project_ids
    projects = Reference(current_unit()).projects(scope, active, search or None)
    return json_body({"data": [dto.project(project) for project in projects]})


def list_project_cost_codes(token_info: dict[str, Any], id: str) -> Json:  # noqa: A002 - the spec names it `id`
    principal = caller(token_info)
    reference = Reference(current_unit())
    if not principal.works_on(id) or reference.project(id) is None:
        raise NotFound(f"Project {id} was not found")
    return json_body({"data": [dto.cost_code(code) for code in reference.cost_codes(id)]})


def list_vendors(token_info: dict[str, Any], active: bool | None = None, search: str | None = None) -> Json:
    caller(token_info)
    vendors = Reference(current_unit()).vendors(active, search or None)
    return json_body({"data": [dto.vendor(vendor) for vendor in vendors]})


def list_audit_logs(
    token_info: dict[str, Any],
    page: int = 1,
    limit: int = 50,
    entity_type: str | None = None,
    entity_id: str | None = None,
    user_id: int | None = None,
    action: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> Json:
    if caller(token_info).user.role != ADMIN:
        raise Forbidden("Only admins may read the audit trail")
    start = date.fromisoformat(date_from) if date_from else None
    end = date.fromisoformat(date_to) if date_to else None
    where = AuditFilter(entity_type, entity_id, user_id, action, start, end)
    entries, total = AuditTrail(current_unit(), REALM).page(where, page, limit)
    return json_body(
        {"data": [dto.audit_entry(entry) for entry in entries], "pagination": dto.pagination(page, limit, total)}
    )
