"""Order-Accept's own settings: how the partner identity provider's tokens are verified."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.config import JWTSettings


@dataclass(frozen=True)
class OrderAcceptSettings:
    jwt: JWTSettings = field(default_factory=JWTSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str], instance_dir: Path) -> OrderAcceptSettings:
        return cls(jwt=JWTSettings.from_env("ORDER_ACCEPT", env, instance_dir))
