"""SCP Integration API handlers; operationIds resolve to these names (`issueToken` -> `issue_token`)."""

from handlers.scp.contracts import (
    activate_integration_contract,
    archive_integration_contract,
    create_integration_contract,
    update_integration_contract,
)
from handlers.scp.integrations import create_integration, get_integration, list_integrations, update_integration
from handlers.scp.lifecycle import (
    activate_integration,
    approve_integration,
    archive_integration,
    deprecate_integration,
    request_integration_review,
    restrict_integration,
    review_integration,
    suspend_integration,
)
from handlers.scp.registry import create_registry_template, instantiate_registry_template, list_registry_templates
from handlers.scp.token import issue_token

__all__ = [
    "activate_integration",
    "activate_integration_contract",
    "approve_integration",
    "archive_integration",
    "archive_integration_contract",
    "create_integration",
    "create_integration_contract",
    "create_registry_template",
    "deprecate_integration",
    "get_integration",
    "instantiate_registry_template",
    "issue_token",
    "list_integrations",
    "list_registry_templates",
    "request_integration_review",
    "restrict_integration",
    "review_integration",
    "suspend_integration",
    "update_integration",
    "update_integration_contract",
]
