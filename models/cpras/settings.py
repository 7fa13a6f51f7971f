"""CPRAS's own settings: who its tokens are from and for, how long they live, where the key
ring that signs them is kept, how many failed client authentications are let through, the
secret PrintPLANR signs its webhooks with, and how CPRAS reaches PrintPLANR for hand-offs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.config import dev_secret, flag
from core.oauth.server import MAX_LIFETIME

MAX_CODE_LIFETIME = 300  # a hand-off's code lives a few minutes at most


@dataclass(frozen=True)
class CprasSettings:
    # A JWKS of private keys; every worker of every machine must read the same one.
    token_keys_file: Path = Path("var/cpras_token_keys.json")
    token_issuer: str = "cpras"  # noqa: S105 - a name
    token_audience: str = "cpras-partner-api"  # noqa: S105 - a name
    token_lifetime: int = MAX_LIFETIME
    # Failed client authentications let through per client address, and per client id.
    auth_failure_rate: str = "10/minute"
    rate_limits_enabled: bool = True
    # Keys the HMAC of X-PrintPlanr-Signature; shared with PrintPLANR, the same on every machine.
    webhook_secret: str = field(default="", repr=False)
    # PrintPLANR's API for hand-offs; unset, hand-offs are off.
    printplanr_base_url: str | None = None
    printplanr_api_key: str = field(default="", repr=False)  # sent as a bearer token
    printplanr_timeout: float = 5.0  # seconds, to connect and to read, per attempt
    printplanr_retries: int = 2  # more attempts after a 5xx or a timeout, with back-off
    # Hosts a session URL may point at, besides the base URL's own.
    printplanr_session_hosts: tuple[str, ...] = ()
    # The OAuth client (PrintPLANR's) that may consume the codes of hand-offs.
    printplanr_client_id: str | None = None
    # CPRAS's address as browsers reach it, for return URLs (never taken from a request's Host).
    public_url: str | None = None
    session_code_lifetime: int = 120  # seconds a hand-off's code may be consumed in
    handoff_return_lifetime: int = 7200  # seconds the user may take at PrintPLANR before returning
    # Signs the Print Orders area's session cookie; the same on every machine.
    session_secret: str = field(default="", repr=False)
    secure_cookies: bool = True

    def __post_init__(self) -> None:
        if not 0 < self.token_lifetime <= MAX_LIFETIME:
            raise ValueError(f"CPRAS_TOKEN_LIFETIME must be from 1 to {MAX_LIFETIME} seconds")
        if not 0 < self.session_code_lifetime <= MAX_CODE_LIFETIME:
            raise ValueError(f"CPRAS_SESSION_CODE_LIFETIME must be from 1 to {MAX_CODE_LIFETIME} seconds")
        if self.printplanr_base_url:
            if not self.printplanr_base_url.startswith(("https://", "http://")):
                raise ValueError("PRINTPLANR_BASE_URL must be an http or https URL")
            if not self.printplanr_client_id:
                raise ValueError("PRINTPLANR_CLIENT_ID must name PrintPLANR's OAuth client when hand-offs are on")
            if not (self.public_url or "").startswith(("https://", "http://")):
                raise ValueError("CPRAS_PUBLIC_URL must be CPRAS's http(s) address when hand-offs are on")

    @classmethod
    def from_env(cls, env: Mapping[str, str], instance_dir: Path) -> CprasSettings:
        keys = env.get("CPRAS_TOKEN_KEYS_FILE")
        return cls(
            token_keys_file=Path(keys) if keys else instance_dir / "cpras_token_keys.json",
            token_issuer=env.get("CPRAS_TOKEN_ISSUER") or cls.token_issuer,
            token_audience=env.get("CPRAS_TOKEN_AUDIENCE") or cls.token_audience,
            token_lifetime=int(env.get("CPRAS_TOKEN_LIFETIME") or cls.token_lifetime),
            auth_failure_rate=env.get("CPRAS_AUTH_FAILURE_RATE") or cls.auth_failure_rate,
            rate_limits_enabled=not flag(env.get("CPRAS_RATE_LIMITS_DISABLED")),
            webhook_secret=env.get("CPRAS_WEBHOOK_SECRET") or dev_secret(instance_dir / "cpras_webhook_secret"),
            printplanr_base_url=(env.get("PRINTPLANR_BASE_URL") or "").rstrip("/") or None,
            printplanr_api_key=env.get("PRINTPLANR_API_KEY") or "",
            printplanr_timeout=float(env.get("PRINTPLANR_TIMEOUT") or cls.printplanr_timeout),
            printplanr_retries=int(env.get("PRINTPLANR_RETRIES") or cls.printplanr_retries),
            printplanr_session_hosts=tuple(
                host.strip().lower() for host in (env.get("PRINTPLANR_SESSION_HOSTS") or "").split(",") if host.strip()
            ),
            printplanr_client_id=env.get("PRINTPLANR_CLIENT_ID") or None,
            public_url=(env.get("CPRAS_PUBLIC_URL") or "").rstrip("/") or None,
            session_code_lifetime=int(env.get("CPRAS_SESSION_CODE_LIFETIME") or cls.session_code_lifetime),
            handoff_return_lifetime=int(env.get("CPRAS_HANDOFF_RETURN_LIFETIME") or cls.handoff_return_lifetime),
            session_secret=env.get("CPRAS_SESSION_SECRET") or dev_secret(instance_dir / "cpras_session_secret"),
            secure_cookies=not flag(env.get("CPRAS_INSECURE_COOKIES")),
        )
