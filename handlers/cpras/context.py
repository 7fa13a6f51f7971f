"""What CPRAS handlers share: its settings, the key ring its tokens are signed with (read again
when its file changes, so a rotation reaches every worker without a restart), the token
server, and the per-client count of failed authentications."""

from __future__ import annotations

import functools
from pathlib import Path

from core.auth_failures import FailureCounter
from core.config import Settings
from core.oauth import KeyRing, TokenPolicy, TokenServer
from core.unit_of_work import current_unit
from models.cpras import scopes
from models.cpras.settings import CprasSettings

REALM = "cpras"


def cpras_settings(settings: Settings | None = None) -> CprasSettings:
    from handlers.cpras.api import API  # the API declares these handlers: imported when first served

    return API.config(settings or current_unit().settings)


def key_ring(path: Path) -> KeyRing:
    """The ring at `path`, made on first use (a developer's machine); cached until the file changes."""
    if not path.exists():
        KeyRing.load(path)
    return _ring(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _ring(path: Path, modified: int) -> KeyRing:
    return KeyRing.load(path)


@functools.cache
def token_server(cpras: CprasSettings) -> TokenServer:
    policy = TokenPolicy(
        issuer=cpras.token_issuer,
        audience=cpras.token_audience,
        realm=REALM,
        scopes_supported=scopes.ALL,
        default_scopes=scopes.DEFAULT,
        lifetime=cpras.token_lifetime,
    )
    return TokenServer(lambda: key_ring(cpras.token_keys_file), policy)


@functools.cache
def client_failures(cpras: CprasSettings, storage_uri: str, enabled: bool) -> FailureCounter:
    return FailureCounter(
        rate=cpras.auth_failure_rate, storage_uri=storage_uri, namespace="cpras-client-failures", enabled=enabled
    )
