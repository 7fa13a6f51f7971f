"""How webhooks are sent, the same for every API: timeouts, retries, concurrency, trust."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

# Seconds after the first attempt fails, then after each retry: about a day in all.
DEFAULT_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(value: str | None) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in (value or "").split(",") if part.strip())


@dataclass(frozen=True)
class WebhookSettings:
    connect_timeout: float = 5.0
    total_timeout: float = 15.0
    schedule: tuple[float, ...] = DEFAULT_SCHEDULE
    jitter: float = 0.1  # each wait is stretched or shrunk by up to this share, at random
    concurrency: int = 64  # deliveries in flight per worker process (per API that sends webhooks)
    # Of those, to one subscription at most: a slow receiver holds no more threads than this,
    # and no receiver gets more requests at once from one worker.
    per_subscription: int = 16
    batch: int = 200  # deliveries claimed at most at once
    excerpt_bytes: int = 1024  # of each answer, kept in the attempt log
    # Addresses a URL may resolve to although they are not public, and over plain http:
    # for tests and local development only.
    allowed_networks: tuple[Network, ...] = field(default=())
    ca_file: Path | None = None  # extra certificate authorities to trust (besides the system's)
    retention: timedelta = timedelta(days=7)  # delivered and cancelled deliveries are kept this long

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WebhookSettings:
        schedule = env.get("WEBHOOK_RETRY_SCHEDULE")
        return cls(
            connect_timeout=float(env.get("WEBHOOK_CONNECT_TIMEOUT") or cls.connect_timeout),
            total_timeout=float(env.get("WEBHOOK_TIMEOUT") or cls.total_timeout),
            schedule=tuple(float(part) for part in schedule.split(",")) if schedule else DEFAULT_SCHEDULE,
            concurrency=int(env.get("WEBHOOK_CONCURRENCY") or cls.concurrency),
            per_subscription=int(env.get("WEBHOOK_CONCURRENCY_PER_SUBSCRIPTION") or cls.per_subscription),
            allowed_networks=_networks(env.get("WEBHOOK_ALLOWED_ADDRESSES")),
            ca_file=Path(env["WEBHOOK_CA_FILE"]) if env.get("WEBHOOK_CA_FILE") else None,
            retention=timedelta(days=float(env.get("WEBHOOK_RETENTION_DAYS") or 7)),
        )

    @property
    def attempts(self) -> int:
        """How many times a delivery is tried at most: once, then once per wait of the schedule."""
        return len(self.schedule) + 1
