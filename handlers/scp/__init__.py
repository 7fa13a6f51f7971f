"""SCP Integration API handlers; operationIds resolve to these names (`issueToken` -> `issue_token`)."""

from handlers.scp.contracts import (
    activate_integration_contract,
    archive_integration_contract,
    create_integration_contract,
    update_integration_contract,
)
from handlers.scp.exchanges import (
    download_integration_exchange_output,
    list_integration_exchanges,
    pull_integration_data,
    push_integration_data,
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
from handlers.scp.webhooks import (
    create_integration_webhook,
    disable_integration_webhook,
    get_integration_webhook_keys,
    list_integration_webhooks,
    rotate_integration_webhook_secret,
    update_integration_webhook,
)

__all__ = [
    "activate_integration",
    "activate_integration_contract",
    "approve_integration",
    "archive_integration",
    "archive_integration_contract",
    "create_integration",
    "create_integration_contract",
    "create_integration_webhook",
    "create_registry_template",
    "deprecate_integration",
    "disable_integration_webhook",
    "download_integration_exchange_output",
    "get_integration",
    "get_integration_webhook_keys",
    "instantiate_registry_template",
    "issue_token",
    "list_integration_exchanges",
    "list_integration_webhooks",
    "list_integrations",
    "list_registry_templates",
    "pull_integration_data",
    "push_integration_data",
    "request_integration_review",
    "restrict_integration",
    "review_integration",
    "rotate_integration_webhook_secret",
    "suspend_integration",
    "update_integration",
    "update_integration_contract",
    "update_integration_webhook",
]
