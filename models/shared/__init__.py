"""Tables and services any API may use: password sessions with refresh rotation, the audit trail."""
