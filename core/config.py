"""Settings read once from the environment, so nothing is configured at import time.

`Settings` holds what the core needs; each API reads its own settings (`Api.settings`)
from the same environment when it is mounted, and they are kept in `Settings.apis`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_HANDLER_THREADS = 8


def flag(value: str | None) -> bool:
    """An on/off environment variable: 1, true, yes or on (any case) is on."""
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class JWTSettings:
    """How bearer tokens issued by a partner's identity provider are verified."""

    algorithm: str = "HS256"
    secret: str | None = field(default=None, repr=False)
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
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _addresses(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """Everything the app factory needs; tests build their own instead of patching globals."""

    database_url: str
    instance_dir: Path
    spec_dir: Path = PROJECT_ROOT / "specs"
    validate_responses: bool = False
    # Shared counters (rate limits) live here when set, so they hold across workers and machines.
    redis_url: str | None = None
    # Off turns every API's rate limits off (the headers are still sent): for load tests.
    rate_limits_enabled: bool = True
    # Peers whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or networks).
    trusted_proxies: tuple[str, ...] = ()
    # How many handlers that may block run at once per worker process (core.concurrency).
    handler_threads: int = DEFAULT_HANDLER_THREADS
    # A port of its own for /metrics and the probes (gunicorn binds it too); else the main one.
    metrics_port: int | None = None
    # The environment the APIs read their own settings from (it may hold secrets: not in repr).
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)
    # Each mounted API's own settings, by API name (filled by core.api.configure).
    apis: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        instance_dir = Path(env.get("INSTANCE_DIR") or PROJECT_ROOT / "var")
        database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_dir / 'service.db'}"
        threads = int(env.get("HANDLER_THREADS") or DEFAULT_HANDLER_THREADS)
        if threads < 1:
            raise ValueError("HANDLER_THREADS must be at least 1")
        return cls(
            database_url=database_url,
            instance_dir=instance_dir,
            spec_dir=Path(env.get("SPEC_DIR") or PROJECT_ROOT / "specs"),
            validate_responses=flag(env.get("VALIDATE_RESPONSES")),
            redis_url=env.get("REDIS_URL") or None,
            rate_limits_enabled=not flag(env.get("RATE_LIMITS_DISABLED")),
            trusted_proxies=_addresses(env.get("TRUSTED_PROXIES")),
            handler_threads=threads,
            metrics_port=int(env["METRICS_PORT"]) if env.get("METRICS_PORT") else None,
            environ=env,
        )

    def with_api(self, name: str, api_settings: Any) -> Settings:
        """These settings, with one API's own settings replaced (tests tune an API this way)."""
        return replace(self, apis={**self.apis, name: api_settings})
