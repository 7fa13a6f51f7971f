"""Roles and permissions, as the document names them.

Each role brings a default permission set; a user's own set (stored with the user) may
differ, and the token carries the user's set. `admin` sees every project.
"""

from __future__ import annotations

from decimal import Decimal

PO_CREATE = "po:create"
PO_SUBMIT = "po:submit"
PO_APPROVE = "po:approve"

FOREMAN, SUPER, PM, ADMIN = "foreman", "super", "pm", "admin"
ROLES = (FOREMAN, SUPER, PM, ADMIN)

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    FOREMAN: (PO_CREATE, PO_SUBMIT),
    SUPER: (PO_CREATE, PO_SUBMIT, PO_APPROVE),
    PM: (PO_CREATE, PO_SUBMIT, PO_APPROVE),
    ADMIN: (PO_CREATE, PO_SUBMIT, PO_APPROVE),
}

# What a new user of each role may approve unless told otherwise.
ROLE_AUTHORIZATION_LIMITS: dict[str, Decimal] = {
    FOREMAN: Decimal("5000.00"),
    SUPER: Decimal("25000.00"),
    PM: Decimal("100000.00"),
    ADMIN: Decimal("1000000.00"),
}
