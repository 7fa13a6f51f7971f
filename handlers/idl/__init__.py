"""IDL Purchase Order Tool handlers; operationIds resolve to these names (`listVendors` -> `list_vendors`)."""

from handlers.idl.auth import login, logout, refresh_tokens
from handlers.idl.directory import (
    get_current_user,
    list_audit_logs,
    list_project_cost_codes,
    list_projects,
    list_users,
    list_vendors,
)
from handlers.idl.files import delete_file, download_file, list_purchase_order_files, upload_purchase_order_file
from handlers.idl.purchase_orders import (
    approve_purchase_order,
    cancel_purchase_order,
    close_purchase_order,
    create_purchase_order,
    delete_purchase_order,
    get_purchase_order,
    list_purchase_orders,
    reject_purchase_order,
    submit_purchase_order,
    update_purchase_order,
)

__all__ = [
    "approve_purchase_order",
    "cancel_purchase_order",
    "close_purchase_order",
    "create_purchase_order",
    "delete_file",
    "delete_purchase_order",
    "download_file",
    "get_current_user",
    "get_purchase_order",
    "list_audit_logs",
    "list_project_cost_codes",
    "list_projects",
    "list_purchase_order_files",
    "list_purchase_orders",
    "list_users",
    "list_vendors",
    "login",
    "logout",
    "refresh_tokens",
    "reject_purchase_order",
    "submit_purchase_order",
    "update_purchase_order",
    "upload_purchase_order_file",
]
