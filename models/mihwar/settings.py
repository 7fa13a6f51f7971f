"""Mihwar's own settings: its rate limit, ingestion limits, cursor secret, forecast horizon,
webhooks, and which SCIM groups make administrators."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.config import dev_secret, flag
from core.webhooks import WebhookSettings

MAX_HORIZON = 52  # the spec's maximum of a prediction's `horizon`


@dataclass(frozen=True)
class MihwarSettings:
    rate_limit: str = "120/minute"  # per API key, for everything under /api/integrations/v1
    rate_limits_enabled: bool = True
    # Signs pagination cursors; every worker of a deployment must share it.
    cursor_secret: str = field(default="", repr=False)
    chunk_size: int = 500  # rows per insert statement, as the source document says
    max_body_bytes: int = 10 * 1024 * 1024  # an ingestion body larger than this answers 413 unread
    forecast_horizon: int = 4  # periods predicted after an item's latest ordered period
    idempotency_hours: int = 24
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    # SCIM groups whose members are administrators (any letter case); other groups make members.
    scim_admin_groups: tuple[str, ...] = ("Mihwar Admins",)

    def __post_init__(self) -> None:
        if not 1 <= self.forecast_horizon <= MAX_HORIZON:
            raise ValueError(f"MIHWAR_FORECAST_HORIZON must be from 1 to {MAX_HORIZON}")

    @classmethod
    def from_env(cls, env: Mapping[str, str], instance_dir: Path) -> MihwarSettings:
        return cls(
            rate_limit=env.get("MIHWAR_RATE_LIMIT") or cls.rate_limit,
            rate_limits_enabled=not flag(env.get("MIHWAR_RATE_LIMITS_DISABLED")),
            cursor_secret=env.get("MIHWAR_CURSOR_SECRET") or dev_secret(instance_dir / "mihwar_cursor_secret"),
            forecast_horizon=int(env.get("MIHWAR_FORECAST_HORIZON") or cls.forecast_horizon),
            webhooks=WebhookSettings.from_env(env),
            scim_admin_groups=tuple(
                name.strip()
                for name in (env.get("MIHWAR_SCIM_ADMIN_GROUPS") or cls.scim_admin_groups[0]).split(",")
                if name.strip()
            ),
        )
