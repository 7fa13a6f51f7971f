"""The least-privilege scopes of CPRAS's tokens, one per capability (the spec's `oauth2`)."""

WEBHOOKS_WRITE = "webhooks:write"
SUPPLIER_CONTEXT_READ = "supplier_context:read"
SESSIONS_CONSUME = "sessions:consume"

ALL = frozenset({WEBHOOKS_WRITE, SUPPLIER_CONTEXT_READ, SESSIONS_CONSUME})
DEFAULT = frozenset({WEBHOOKS_WRITE})  # what a token request without `scope` gets: the MVP capability
