"""What every SCIM write has in common, for users and groups alike: who provisions, reading
a body or a PATCH into a resource, versions (ETags), and the audit trail."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import ValidationError
from scim2_models import (
    Context,
    Error,
    InvalidValueException,
    PatchOp,
    PreconditionFailedException,
    Resource,
    SCIMException,
    UniquenessException,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.mihwar.scim.resources import POLICY, normalized_patch
from models.mihwar.tables import ScimAudit

R = TypeVar("R", bound=Resource[Any])
V = TypeVar("V", bound=str | None)


@dataclass(frozen=True)
class Page(Generic[R]):
    """One page of a search: how many resources match in all, and those of the page."""

    total: int
    resources: Sequence[R]


@dataclass(frozen=True)
class Provisioning:
    """Who provisions (an organization, by one of its SCIM tokens), and where its resources live."""

    organization_id: str
    token_id: str
    base_url: str  # of the SCIM endpoints, for `meta.location`

    def location(self, resource_type: str, resource_id: str) -> str:
        return f"{self.base_url}/{resource_type}s/{resource_id}"

    def audit(self, session: Session, action: str, resource: str, resource_id: str, body: Any) -> None:
        """Record a change: which token made it, to what, and what it asked (passwords left out)."""
        changes = without_passwords(body) if isinstance(body, Mapping) else None
        session.add(
            ScimAudit(
                organization_id=self.organization_id,
                token_id=self.token_id,
                action=action,
                resource_type=resource,
                resource_id=resource_id,
                changes=changes,
            )
        )
        session.flush()


def without_passwords(value: Any) -> Any:
    """`value` with every `password` member removed, at any depth, and every PATCH operation
    whose path names a password: a PUT, a POST and Okta's password push alike."""
    if isinstance(value, Mapping):
        kept = {key: value for key, value in value.items() if str(key).lower() != "password"}
        if str(kept.get("path", "")).lower().endswith("password"):
            kept.pop("value", None)
        return {key: without_passwords(member) for key, member in kept.items()}
    if isinstance(value, list):
        return [without_passwords(member) for member in value]
    return value


def etag(version: int) -> str:
    return f'W/"{version}"'


def check_version(version: int, if_match: str | None) -> None:
    """RFC 7644 §3.14: a write with an `If-Match` that names no current version answers 412."""
    if if_match is None:
        return
    wanted = {tag.strip() for tag in if_match.split(",")}
    if "*" not in wanted and etag(version) not in wanted and f'"{version}"' not in wanted:
        raise PreconditionFailedException(detail="The resource has changed since that version.")


def validated(model: type[R], body: Mapping[str, Any], context: Context) -> R:
    """A POST or PUT body as `model`, or 400 `invalidValue`. A `schemas` without the
    resource's own URI gets it: what the body is follows from the endpoint it is sent to,
    and a URI the service does not know is ignored like any unknown attribute."""
    given = dict(body)
    schemas = given.get("schemas")
    base = str(model.__schema__)
    if isinstance(schemas, list) and base.lower() not in {str(uri).lower() for uri in schemas}:
        given["schemas"] = [base, *schemas]
    try:
        return model.model_validate(given, scim_ctx=context, scim_policy=POLICY)
    except ValidationError as exc:
        raise refusal(exc) from None


def patched(model: type[R], resource: R, body: Mapping[str, Any]) -> bool:
    """Apply a PATCH body's operations to `resource`, all or none; whether it changed."""
    try:
        operations: PatchOp[Any] = PatchOp[model].model_validate(  # type: ignore[valid-type]
            normalized_patch(body), scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY
        )
    except ValidationError as exc:
        raise refusal(exc) from None
    return bool(operations.patch(resource, scim_policy=POLICY))


def bounded(value: V, length: int, attribute: str) -> V:
    """`value`, if it fits its column; else 400 `invalidValue` (a PATCH value meets no schema first)."""
    if value is not None and len(value) > length:
        raise InvalidValueException(detail=f"{attribute} is longer than {length} characters.")
    return value


@contextmanager
def unique(detail: str) -> Iterator[None]:
    """A unique constraint that a concurrent request won first answers 409 `uniqueness`, as
    the check before it would have (the request's transaction is rolled back whole)."""
    try:
        yield
    except IntegrityError:
        raise UniquenessException(detail=detail) from None


def refusal(exc: ValidationError, default: str = "invalidValue") -> SCIMException:
    """scim2-models' first complaint about a body as the SCIM error it stands for: the
    `scimType` it names (`mutability`, `invalidPath`, `noTarget`, …), else `default`."""
    error = exc.errors()[0]
    context = error.get("ctx") or {}
    kind = str(error.get("type", ""))
    scim_type = context.get("scim_type") or (kind.removeprefix("scim_") if kind.startswith("scim_") else default)
    if scim_type == "error":
        scim_type = default
    return SCIMException.from_error(Error(status=400, scim_type=scim_type, detail=first_error(exc)))


def first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(step) for step in error.get("loc", ()))
    return f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg", "invalid"))
