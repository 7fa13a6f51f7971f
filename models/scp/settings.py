"""SCP's own settings: who its tokens are from and for, how long they live, where the key
ring that signs them is kept, and how many failed client authentications are let through."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.config import dev_secret, flag
from core.oauth.server import MAX_LIFETIME
from core.webhooks import WebhookSettings


@dataclass(frozen=True)
class ScpSettings:
    # A JWKS of private keys; every worker of every machine must read the same one.
    token_keys_file: Path = Path("var/scp_token_keys.json")
    token_issuer: str = "scp"  # noqa: S105 - a name
    token_audience: str = "scp-integration-api"  # noqa: S105 - a name
    token_lifetime: int = MAX_LIFETIME
    # Failed client authentications let through per client address, and per client id.
    auth_failure_rate: str = "10/minute"
    # Requests per client (a token's client id; without a valid token, per client address).
    rate_limit: str = "600/minute"
    rate_limits_enabled: bool = True
    # Where pushes wait for the worker and pull outputs are kept (24 hours); shared by every
    # worker of every machine (a network file system), like IDL's file store.
    exchange_dir: Path = Path("var/scp_exchanges")
    # Keys the `hash` and `tokenize` maskings and signs pull cursors; the same on every machine.
    data_secret: str = field(default="", repr=False)
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)

    def __post_init__(self) -> None:
        if not 0 < self.token_lifetime <= MAX_LIFETIME:
            raise ValueError(f"SCP_TOKEN_LIFETIME must be from 1 to {MAX_LIFETIME} seconds")

    @classmethod
    def from_env(cls, env: Mapping[str, str], instance_dir: Path) -> ScpSettings:
        keys = env.get("SCP_TOKEN_KEYS_FILE")
        return cls(
            token_keys_file=Path(keys) if keys else instance_dir / "scp_token_keys.json",
            token_issuer=env.get("SCP_TOKEN_ISSUER") or cls.token_issuer,
            token_audience=env.get("SCP_TOKEN_AUDIENCE") or cls.token_audience,
            token_lifetime=int(env.get("SCP_TOKEN_LIFETIME") or cls.token_lifetime),
            auth_failure_rate=env.get("SCP_AUTH_FAILURE_RATE") or cls.auth_failure_rate,
            rate_limit=env.get("SCP_RATE_LIMIT") or cls.rate_limit,
            rate_limits_enabled=not flag(env.get("SCP_RATE_LIMITS_DISABLED")),
            exchange_dir=Path(env.get("SCP_EXCHANGE_DIR") or instance_dir / "scp_exchanges"),
            data_secret=env.get("SCP_DATA_SECRET") or dev_secret(instance_dir / "scp_data_secret"),
            webhooks=WebhookSettings.from_env(env),
        )
