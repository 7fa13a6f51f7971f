"""The IDL Purchase Order Tool's own settings: its token key, rate limits, and where attachments live."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.config import PROJECT_ROOT, JWTSettings, flag


@dataclass(frozen=True)
class IDLSettings:
    jwt: JWTSettings = field(default_factory=JWTSettings)
    rate_per_user: str = "1000/hour"
    rate_per_endpoint: str = "100/minute"
    rate_uploads: str = "10/minute"
    rate_limits_enabled: bool = True
    upload_dir: Path = PROJECT_ROOT / "var" / "idl_files"
    max_upload_bytes: int = 25 * 1024 * 1024
    clamd_address: str | None = None  # a UNIX socket path or tcp://host:port; None = built-in scanner

    @classmethod
    def from_env(cls, env: Mapping[str, str], instance_dir: Path) -> IDLSettings:
        return cls(
            jwt=JWTSettings.from_env("IDL", env, instance_dir),
            rate_per_user=env.get("IDL_RATE_LIMIT_PER_USER") or cls.rate_per_user,
            rate_per_endpoint=env.get("IDL_RATE_LIMIT_PER_ENDPOINT") or cls.rate_per_endpoint,
            rate_uploads=env.get("IDL_RATE_LIMIT_UPLOADS") or cls.rate_uploads,
            rate_limits_enabled=not flag(env.get("IDL_RATE_LIMITS_DISABLED")),
            upload_dir=Path(env.get("IDL_UPLOAD_DIR") or instance_dir / "idl_files"),
            max_upload_bytes=int(env.get("IDL_MAX_UPLOAD_BYTES") or cls.max_upload_bytes),
            clamd_address=env.get("CLAMD_ADDRESS") or None,
        )
