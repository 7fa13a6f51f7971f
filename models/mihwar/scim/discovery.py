"""What the SCIM service says of itself (RFC 7644 §4): its configuration, resource types and
schemas. Identity providers and conformance tools read these first, so they say exactly what
Mihwar does: PATCH yes, bulk no, filters yes (at most `MAX_RESULTS` a page), password change
no (Mihwar keeps no passwords), sorting no, ETags yes, bearer tokens.
"""

from __future__ import annotations

from typing import Any

from scim2_models import Context, ResourceType, Schema, ServiceProviderConfig

from models.mihwar.scim.changes import Provisioning
from models.mihwar.scim.resources import ProvisionedEnterpriseUser, ScimGroup, ScimUser

MAX_RESULTS = 100  # a page holds at most this many resources; a larger `count` is read as this
DOCUMENTATION = "https://datatracker.ietf.org/doc/html/rfc7644"


def service_provider_config(provisioning: Provisioning) -> dict[str, Any]:
    config = ServiceProviderConfig.model_validate(
        {
            "documentationUri": DOCUMENTATION,
            "patch": {"supported": True},
            "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": True, "maxResults": MAX_RESULTS},
            "changePassword": {"supported": False},
            "sort": {"supported": False},
            "etag": {"supported": True},
            "authenticationSchemes": [
                {
                    "type": "oauthbearertoken",
                    "name": "SCIM token",
                    "description": "Authorization: Bearer scim_live_…, from partner-gateway mihwar create-scim-token.",
                    "primary": True,
                }
            ],
            "meta": {
                "resourceType": "ServiceProviderConfig",
                "location": f"{provisioning.base_url}/ServiceProviderConfig",
            },
        }
    )
    return _dumped(config)


def resource_types(provisioning: Provisioning) -> list[dict[str, Any]]:
    found = []
    for model, name in ((ScimUser, "User"), (ScimGroup, "Group")):
        described = ResourceType.from_resource(model)
        dumped = _dumped(described)
        dumped["meta"] = {"resourceType": "ResourceType", "location": f"{provisioning.base_url}/ResourceTypes/{name}"}
        found.append(dumped)
    return found


def schemas(provisioning: Provisioning) -> list[dict[str, Any]]:
    found = []
    for model in (ScimUser, ProvisionedEnterpriseUser, ScimGroup):
        described: Schema = model.to_schema()
        dumped = _dumped(described)
        dumped["meta"] = {"resourceType": "Schema", "location": f"{provisioning.base_url}/Schemas/{described.id}"}
        found.append(dumped)
    return found


def _dumped(resource: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = resource.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    return dumped
