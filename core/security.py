"""Who may call an operation: verifiers by security scheme name, scopes, permissions, challenges.

Each API gives one verifier per securityScheme *name* of its spec (`Api.security`), so two
schemes of the same type (two kinds of bearer token, say) are told apart. For an
operation, `Guard` follows OpenAPI's rules: its `security` lists alternatives, any one
of which may be met; within one, every scheme must be. A scheme is met when its
credential is present, its verifier accepts it, and the principal holds the scopes the
operation names. The verified principal is kept for the handler (`principal`), so it is
loaded once per request.

Permissions and roles an operation declares in its spec (`x-permissions`, `x-roles`,
`x-permissions-waived-for`) are enforced here too, in one place, right after the caller
is known. Every 401 and 403 of a bearer-protected operation carries the RFC 6750 §3
challenge: `error="invalid_token"` for a credential that was refused, and
`error="insufficient_scope"` (with the scopes needed) for a caller who may not.
"""

from __future__ import annotations

import http.cookies
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from connexion.lifecycle import ConnexionRequest
from connexion.operations import AbstractOperation
from starlette.datastructures import QueryParams

from core.challenges import SECURITY_CONTEXT, Challenge
from core.concurrency import HandlerPool, runs_inline
from core.problems import ApiProblem, Forbidden, Unauthorized


class Principal(Protocol):
    """The verified caller of one request, as any API's verifier describes it."""

    @property
    def scopes(self) -> Collection[str]:
        """OAuth 2.0 scopes granted to the credential."""

    @property
    def permissions(self) -> Collection[str]:
        """Permissions the caller holds (`x-permissions`)."""

    @property
    def roles(self) -> Collection[str]:
        """Roles the caller has (`x-roles`)."""


@dataclass(frozen=True)
class TokenPrincipal:
    """A caller known only by a verified token: its subject, claims and scopes."""

    subject: str | None
    claims: Mapping[str, Any] = field(default_factory=dict)
    scopes: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()


class Verifier(Protocol):
    """Turns the credential of one security scheme into a principal, or raises `Unauthorized`.

    It runs in the handler pool unless marked `@inline` (core.concurrency): a verifier that
    reads the database must not stall the event loop.
    """

    def __call__(self, credential: str, request: ConnexionRequest) -> Principal: ...


@dataclass(frozen=True)
class _Scheme:
    name: str
    definition: Mapping[str, Any]
    scopes: tuple[str, ...]

    @property
    def is_bearer(self) -> bool:
        kind = self.definition.get("type")
        return kind in ("oauth2", "openIdConnect") or (
            kind == "http" and str(self.definition.get("scheme", "")).lower() == "bearer"
        )

    def credential(self, request: ConnexionRequest) -> str | None:
        """The credential this scheme reads from the request, or None when it is absent."""
        kind = self.definition.get("type")
        if kind == "apiKey":
            name, location = str(self.definition["name"]), self.definition.get("in")
            if location == "header":
                return request.headers.get(name) or None
            if location == "query":  # read as sent, not as Connexion resolves the query
                return QueryParams(request.scope.get("query_string", b"")).get(name) or None
            if location == "cookie":
                return _cookie(request.headers.get("cookie"), name)
            return None
        expected = "basic" if kind == "http" and str(self.definition.get("scheme", "")).lower() == "basic" else "bearer"
        auth_type, _, value = (request.headers.get("authorization") or "").strip().partition(" ")
        if auth_type.lower() != expected:
            return None
        return value.strip() or None


def _cookie(header: str | None, name: str) -> str | None:
    if not header:
        return None
    cookies = http.cookies.SimpleCookie()
    try:
        cookies.load(header)
    except http.cookies.CookieError:
        return None
    morsel = cookies.get(name)
    return morsel.value if morsel is not None and morsel.value else None


@dataclass(frozen=True)
class Policy:
    """Permissions and roles an operation requires, from its spec's vendor extensions."""

    permissions: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    waived_for: tuple[str, ...] = ()  # roles that stand in for the permissions

    @classmethod
    def of(cls, operation: Mapping[str, Any]) -> Policy:
        return cls(
            tuple(operation.get("x-permissions") or ()),
            tuple(operation.get("x-roles") or ()),
            tuple(operation.get("x-permissions-waived-for") or ()),
        )

    def check(self, principal: Principal) -> None:
        roles = set(principal.roles)
        if self.roles and not roles.intersection(self.roles):
            raise Forbidden(f"This operation is open only to the role(s) {', '.join(self.roles)}.")
        missing = [name for name in self.permissions if name not in principal.permissions]
        if missing and not roles.intersection(self.waived_for):
            raise Forbidden(f"This operation needs the permission(s) {', '.join(missing)}.")


class Guard:
    """The security of one operation: who may call it, checked before anything else is done."""

    def __init__(
        self, operation: AbstractOperation, verifiers: Mapping[str, Verifier], realm: str, pool: HandlerPool
    ) -> None:
        schemes = operation.security_schemes or {}
        self.alternatives: list[list[_Scheme]] = [
            [_Scheme(name, schemes[name], tuple(scopes or ())) for name, scopes in requirement.items()]
            for requirement in operation.security or []
        ]
        missing = {scheme.name for schemes_ in self.alternatives for scheme in schemes_} - set(verifiers)
        if missing:
            raise LookupError(
                f"{realm}: no verifier for security scheme(s) {', '.join(sorted(missing))} "
                f"of operation {operation._operation.get('operationId')}"
            )
        self.verifiers = verifiers
        self.pool = pool
        self.policy = Policy.of(operation._operation)
        bearer = [scheme for schemes_ in self.alternatives for scheme in schemes_ if scheme.is_bearer]
        self.challenge = Challenge(realm, bearer[0].scopes) if bearer else None

    @property
    def open(self) -> bool:
        """No credential needed: no requirement, or an empty alternative."""
        return not self.alternatives or any(not alternative for alternative in self.alternatives)

    async def check(self, request: ConnexionRequest) -> Principal | None:
        """The verified caller, or None for an open operation; raises 401 or 403 otherwise."""
        if self.challenge is not None:
            request.scope.setdefault("extensions", {})[SECURITY_CONTEXT] = self.challenge
        if self.open:
            return None
        refusals: list[ApiProblem] = []
        for alternative in self.alternatives:
            principal, refusal = await self._meet(alternative, request)
            if principal is not None:
                self.policy.check(principal)
                return principal
            assert refusal is not None
            refusals.append(refusal)
        # A caller who proved who they are but may not: 403 before any 401.
        raise next((refusal for refusal in refusals if refusal.status == 403), refusals[0])

    async def _meet(
        self, alternative: Sequence[_Scheme], request: ConnexionRequest
    ) -> tuple[Principal | None, ApiProblem | None]:
        principal: Principal | None = None
        for scheme in alternative:
            credential = scheme.credential(request)
            if credential is None:
                absent = "No authorization token provided" if scheme.is_bearer else "No credentials provided"
                return None, self._unauthorized(scheme, absent, given=False)
            try:
                verified = await self._verify(self.verifiers[scheme.name], credential, request)
            except Unauthorized as refused:
                return None, self._unauthorized(scheme, refused.detail or "The credential is not valid.", given=True)
            granted = set(verified.scopes)
            if missing := [name for name in scheme.scopes if name not in granted]:
                challenge = Challenge(self.challenge.realm if self.challenge else "", scheme.scopes)
                headers = {"WWW-Authenticate": challenge.header(403)} if scheme.is_bearer else {}
                return None, Forbidden(f"The credential lacks the scope(s) {' '.join(missing)}.", headers=headers)
            principal = principal or verified
        return principal, None

    async def _verify(self, verifier: Verifier, credential: str, request: ConnexionRequest) -> Principal:
        if runs_inline(verifier):
            return verifier(credential, request)
        return await self.pool.run(lambda: verifier(credential, request))

    def _unauthorized(self, scheme: _Scheme, detail: str, *, given: bool) -> Unauthorized:
        headers: dict[str, str] = {}
        if scheme.is_bearer and self.challenge is not None:
            headers["WWW-Authenticate"] = self.challenge.header(401, credential_given=given, detail=detail)
        return Unauthorized(detail, headers=headers)
