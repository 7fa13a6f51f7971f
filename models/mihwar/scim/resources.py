"""The SCIM resources Mihwar serves, as scim2-models defines them, made to take what the
identity providers really send (RFC 7643 is stricter than Okta and Entra ID).

- An email is kept as sent: scim2-models checks it as an address, which refuses the
  `user@okta.local` of Okta's own examples and lower-cases domains that Entra ID expects
  back as they were.
- The enterprise `manager` needs no `$ref`: Entra ID never sends one.
- Unknown attributes and schema URIs are ignored (Entra ID adds a schema of its own to
  groups), members removed by a value list are removed (Entra ID's default), and a PATCH
  of `emails[type eq "work"].value` on a user without one adds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field
from scim2_models import Email, EnterpriseUser, Group, Manager, Reference, Required, ScimPolicy, User

ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


class KeptEmail(Email):
    value: str | None = None


class ProvisionedManager(Manager):
    ref: Annotated[Reference[User] | None, Required.false] = Field(  # type: ignore[type-arg]
        None, serialization_alias="$ref", validation_alias="$ref"
    )


class ProvisionedEnterpriseUser(EnterpriseUser):
    manager: ProvisionedManager | None = None


class ProvisionedUser(User[ProvisionedEnterpriseUser]):
    emails: list[KeptEmail] | None = None  # type: ignore[assignment]


ScimUser = ProvisionedUser
ScimGroup = Group

POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)


def normalized_patch(body: Mapping[str, Any]) -> dict[str, Any]:
    """A PATCH body in the forms scim2-models reads, from those the IdPs send:
    - members given as `{"$ref": null, "value": …}` (Entra ID) lose their null members, so
      that a removal by value list matches the member;
    - Entra ID's manager, as `path: "manager"` or a bare id or a list of one, becomes the
      enterprise extension's `manager` with a `value`;
    - Entra ID's replace of several paths at once, as a value object keyed by paths, becomes
      one operation a path."""
    operations = []
    for given in body.get("Operations") or []:
        if not isinstance(given, Mapping):
            operations.append(given)
            continue
        for operation in _one_path_each(dict(given)):
            operations.append(_normalized_operation(operation))
    return {**body, "Operations": operations} if "Operations" in body else dict(body)


def _one_path_each(operation: dict[str, Any]) -> list[dict[str, Any]]:
    """Entra ID's replace without a path whose value names paths as keys
    (`{"emails[type eq \"work\"].value": …, "name.givenName": …}`), as one operation a path;
    the plain attributes stay together in the first."""
    value = operation.get("value")
    if operation.get("path") or not isinstance(value, Mapping):
        return [operation]
    paths = {key: member for key, member in value.items() if _is_path(str(key), member)}
    if not paths:
        return [operation]
    plain = {key: member for key, member in value.items() if key not in paths}
    split = [{**operation, "path": key, "value": member} for key, member in paths.items()]
    return ([{**operation, "value": plain}] if plain else []) + split


def _is_path(key: str, value: Any) -> bool:
    """Whether a member's name is a path rather than an attribute: it filters values, names a
    sub-attribute, or names an attribute of an extension by its schema URI."""
    if key.lower().startswith("urn:"):
        return not isinstance(value, Mapping)  # an extension's whole object is an attribute
    return "[" in key or "." in key


def _normalized_operation(operation: dict[str, Any]) -> dict[str, Any]:
    value = operation.get("value")
    if isinstance(value, list):
        operation["value"] = [
            {key: item for key, item in entry.items() if item is not None} if isinstance(entry, Mapping) else entry
            for entry in value
        ]
    path = str(operation.get("path") or "")
    if path.lower() in ("manager", f"{ENTERPRISE_USER}:manager".lower()):
        operation["path"] = f"{ENTERPRISE_USER}:manager"
        manager = operation.get("value")
        if isinstance(manager, list):
            manager = manager[0] if manager else None
        operation["value"] = {"value": manager} if isinstance(manager, str) else manager
    return operation
