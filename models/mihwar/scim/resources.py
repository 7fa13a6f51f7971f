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

from typing import Annotated

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
