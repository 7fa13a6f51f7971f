"""SCP Integration API handlers; operationIds resolve to these names (`issueToken` -> `issue_token`)."""

from handlers.scp.token import issue_token

__all__ = ["issue_token"]
