"""CPRAS Partner API handlers; operationIds resolve to these names (`issueToken` -> `issue_token`)."""

from handlers.cpras.token import issue_token
from handlers.cpras.webhooks import receive_printplanr_webhook

__all__ = ["issue_token", "receive_printplanr_webhook"]
