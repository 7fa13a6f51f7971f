"""The scopes of SCP's tokens, as the spec's `scpOAuth2` names them, and who may hold which.

A tenant's admin clients may hold any of them; an integration's own client (part of the
lifecycle, issued on activation) only the data and webhook ones, so that it can never
govern itself.
"""

INTEGRATIONS_READ = "integrations:read"
INTEGRATIONS_WRITE = "integrations:write"
INTEGRATIONS_GOVERN = "integrations:govern"
CONTRACTS_WRITE = "contracts:write"
CONTRACTS_GOVERN = "contracts:govern"
REGISTRY_READ = "registry:read"
REGISTRY_WRITE = "registry:write"
DATA_PUSH = "data:push"
DATA_PULL = "data:pull"
EXCHANGES_READ = "exchanges:read"
WEBHOOKS_READ = "webhooks:read"
WEBHOOKS_MANAGE = "webhooks:manage"

ALL = frozenset(
    {
        INTEGRATIONS_READ,
        INTEGRATIONS_WRITE,
        INTEGRATIONS_GOVERN,
        CONTRACTS_WRITE,
        CONTRACTS_GOVERN,
        REGISTRY_READ,
        REGISTRY_WRITE,
        DATA_PUSH,
        DATA_PULL,
        EXCHANGES_READ,
        WEBHOOKS_READ,
        WEBHOOKS_MANAGE,
    }
)
READ_ONLY = frozenset({INTEGRATIONS_READ, REGISTRY_READ, EXCHANGES_READ, WEBHOOKS_READ})
# What a token request without `scope` gets: reading, never writing or governing.
DEFAULT = READ_ONLY
# What an integration's own client holds: reading its integration, and its data and logs.
INTEGRATION_CLIENT = frozenset({INTEGRATIONS_READ, DATA_PUSH, DATA_PULL, EXCHANGES_READ, WEBHOOKS_READ})
