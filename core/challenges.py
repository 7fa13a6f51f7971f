"""The RFC 6750 §3 `WWW-Authenticate` challenge of operations protected by bearer tokens.

The guard (core.security) records the operation's challenge in the request scope when it
starts, so that any 401 or 403 of that operation, whoever raises it, carries it
(core.problems adds it when the error is written).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SECURITY_CONTEXT = "partner_gateway_security"
"""Where in the ASGI scope's extensions the operation's challenge is kept."""


@dataclass(frozen=True)
class Challenge:
    """The `WWW-Authenticate` challenge of an operation protected by bearer tokens."""

    realm: str
    scopes: tuple[str, ...] = ()

    def header(self, status: int, *, credential_given: bool = True, detail: str | None = None) -> str:
        parts = [f'realm="{_quoted(self.realm)}"']
        if status == 401 and credential_given:
            parts.append('error="invalid_token"')
            if detail:
                parts.append(f'error_description="{_quoted(detail)}"')
        elif status == 403:
            parts.append('error="insufficient_scope"')
            if self.scopes:
                parts.append(f'scope="{" ".join(self.scopes)}"')
        return "Bearer " + ", ".join(parts)


def _quoted(text: str) -> str:
    """Text fit for a quoted-string: printable ASCII without quotes or backslashes."""
    return "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "?" for ch in text)


def challenge_of(scope: Mapping[str, Any]) -> Challenge | None:
    """The challenge of the operation this request was routed to, if it has one."""
    challenge: Challenge | None = scope.get("extensions", {}).get(SECURITY_CONTEXT)
    return challenge


def with_challenge(status: int, headers: Mapping[str, str], challenge: Challenge | None) -> dict[str, str]:
    """`headers` with the operation's challenge added to a 401 or 403 that has none."""
    result = dict(headers)
    if challenge is not None and status in (401, 403) and not _has(result, "WWW-Authenticate"):
        result["WWW-Authenticate"] = challenge.header(status)
    return result


def _has(headers: Mapping[str, str], name: str) -> bool:
    return any(key.lower() == name.lower() for key in headers)
