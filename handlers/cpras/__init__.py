"""CPRAS Partner API handlers; operationIds resolve to these names (`issueToken` -> `issue_token`)."""

from handlers.cpras.sessions import consume_session
from handlers.cpras.suppliers import get_supplier_context
from handlers.cpras.token import issue_token
from handlers.cpras.webhooks import receive_printplanr_webhook

__all__ = ["consume_session", "get_supplier_context", "issue_token", "receive_printplanr_webhook"]
