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
class Settings:
    """Everything the app factory needs; tests build their own instead of patching globals."""

    database_url: str
    instance_dir: Path
    spec_dir: Path = PROJECT_ROOT / "specs"
    validate_responses: bool = False
    request_path: str = "fast"  # "fast" (core.fast_path) or "stock" Connexion FlaskApp
    order_accept_jwt: JWTSettings = field(default_factory=JWTSettings)

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
        )
