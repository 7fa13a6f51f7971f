"""Settings read once from the environment, so nothing is configured at import time."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class JWTSettings:
    """How bearer tokens issued by a partner's identity provider are verified."""

    algorithm: str = "HS256"
    secret: str | None = None
    public_key_file: Path | None = None
    jwks_file: Path | None = None
    private_key_file: Path | None = None  # only to mint demo tokens under RS256
    issuer: str | None = None
    audience: str | None = None
    leeway_seconds: int = 30

    @classmethod
    def from_env(cls, prefix: str, env: Mapping[str, str], instance_dir: Path) -> JWTSettings:
        def get(name: str) -> str | None:
            return env.get(f"{prefix}_{name}") or None

        def path(name: str) -> Path | None:
            value = get(name)
            return Path(value) if value else None

        algorithm = (get("JWT_ALGORITHM") or "HS256").upper()
        secret = get("JWT_SECRET")
        if algorithm == "HS256" and secret is None:
            secret = dev_secret(instance_dir / f"{prefix.lower()}_jwt_secret")
        return cls(
            algorithm=algorithm,
            secret=secret,
            public_key_file=path("JWT_PUBLIC_KEY_FILE"),
            jwks_file=path("JWT_JWKS_FILE"),
            private_key_file=path("JWT_PRIVATE_KEY_FILE"),
            issuer=get("JWT_ISSUER"),
            audience=get("JWT_AUDIENCE"),
            leeway_seconds=int(get("JWT_LEEWAY_SECONDS") or 30),
        )


def dev_secret(path: Path) -> str:
    """Return the per-machine development secret at `path`, creating it on first use.

    Production sets the secret in the environment; a developer's machine gets a random one
    that `make run` and `make demo-credentials` share, and that never leaves the machine.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


@dataclass(frozen=True)
class IDLSettings:
    """The IDL Purchase Order Tool: its token key, rate limits, and where attachments live."""

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
            rate_limits_enabled=not _flag(env.get("IDL_RATE_LIMITS_DISABLED")),
            upload_dir=Path(env.get("IDL_UPLOAD_DIR") or instance_dir / "idl_files"),
            max_upload_bytes=int(env.get("IDL_MAX_UPLOAD_BYTES") or cls.max_upload_bytes),
            clamd_address=env.get("CLAMD_ADDRESS") or None,
        )


@dataclass(frozen=True)
class Settings:
    """Everything the app factory needs; tests build their own instead of patching globals."""

    database_url: str
    instance_dir: Path
    spec_dir: Path = PROJECT_ROOT / "specs"
    validate_responses: bool = False
    request_path: str = "fast"  # "fast" (core.fast_path) or "stock" Connexion FlaskApp
    order_accept_jwt: JWTSettings = field(default_factory=JWTSettings)
    idl: IDLSettings = field(default_factory=IDLSettings)
    # Shared counters (rate limits) live here when set, so they hold across workers and machines.
    redis_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        instance_dir = Path(env.get("INSTANCE_DIR") or PROJECT_ROOT / "var")
        database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_dir / 'service.db'}"
        return cls(
            database_url=database_url,
            instance_dir=instance_dir,
            spec_dir=Path(env.get("SPEC_DIR") or PROJECT_ROOT / "specs"),
            validate_responses=_flag(env.get("VALIDATE_RESPONSES")),
            request_path=env.get("REQUEST_PATH") or "fast",
            order_accept_jwt=JWTSettings.from_env("ORDER_ACCEPT", env, instance_dir),
            idl=IDLSettings.from_env(env, instance_dir),
            redis_url=env.get("REDIS_URL") or None,
        )
