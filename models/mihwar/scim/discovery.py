"""What the SCIM service says of itself (RFC 7644 §4): its configuration, resource types and
schemas. Identity providers and conformance tools read these first, so they say exactly what
Mihwar does: PATCH yes, bulk no, filters yes (at most `MAX_RESULTS` a page), password change
no (Mihwar keeps no passwords), sorting no, ETags yes, bearer tokens.
"""

from __future__ import annotations

from typing import Any

from scim2_models import Context, NotFoundException, ResourceType, Schema, ServiceProviderConfig

from models.mihwar.scim.changes import Provisioning
from models.mihwar.scim.resources import ScimGroup, ScimUser

MAX_RESULTS = 100  # a page holds at most this many resources; a larger `count` is read as this
DOCUMENTATION = "https://datatracker.ietf.org/doc/html/rfc7644"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


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


# What Mihwar keeps of each resource: the schemas list these attributes only. `id`,
# `externalId` and `meta` are common to every resource (RFC 7643 §3.1) and are not listed.
# The enterprise extension is accepted and ignored, so it is not announced.
KEPT: dict[str, dict[str, frozenset[str] | None]] = {
    str(ScimUser.__schema__): {
        "userName": None,
        "name": frozenset({"formatted", "familyName", "givenName"}),
        "displayName": None,
        "active": None,
        "emails": frozenset({"value", "type", "primary"}),
        "groups": frozenset({"value", "$ref", "display"}),
    },
    str(ScimGroup.__schema__): {
        "displayName": None,
        "members": frozenset({"value", "$ref", "type"}),  # as RFC 7643 §8.7.1 lists them
    },
}
DESCRIBED = {str(ScimUser.__schema__): ("User", "User Account"), str(ScimGroup.__schema__): ("Group", "Group")}


def resource_types(provisioning: Provisioning) -> list[dict[str, Any]]:
    found = []
    for model in (ScimUser, ScimGroup):
        name, description = DESCRIBED[str(model.__schema__)]
        dumped = _dumped(ResourceType.from_resource(model))
        dumped.pop("schemaExtensions", None)
        dumped.update(id=name, name=name, description=description)
        dumped["meta"] = {"resourceType": "ResourceType", "location": f"{provisioning.base_url}/ResourceTypes/{name}"}
        found.append(dumped)
    return found


def resource_type(provisioning: Provisioning, type_id: str) -> dict[str, Any]:
    return _one(resource_types(provisioning), type_id, "resource type")


def schemas(provisioning: Provisioning) -> list[dict[str, Any]]:
    found = []
    for model in (ScimUser, ScimGroup):
        described: Schema = model.to_schema()
        dumped = _dumped(described)
        kept = KEPT[str(described.id)]
        attributes = dumped["attributes"]
        dumped["attributes"] = [_narrowed(attribute, kept) for attribute in attributes if attribute["name"] in kept]
        dumped["name"], dumped["description"] = DESCRIBED[str(described.id)]
        dumped["meta"] = {"resourceType": "Schema", "location": f"{provisioning.base_url}/Schemas/{described.id}"}
        found.append(dumped)
    return found


def schema(provisioning: Provisioning, schema_id: str) -> dict[str, Any]:
    return _one(schemas(provisioning), schema_id, "schema")


def listed(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """Discovery resources as a ListResponse, all on one page."""
    return {
        "schemas": [LIST_RESPONSE],
        "totalResults": len(resources),
        "startIndex": 1,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }


def _narrowed(attribute: dict[str, Any], kept: dict[str, frozenset[str] | None]) -> dict[str, Any]:
    wanted = kept[attribute["name"]]
    if wanted is None or "subAttributes" not in attribute:
        return attribute
    return {**attribute, "subAttributes": [sub for sub in attribute["subAttributes"] if sub["name"] in wanted]}


def _one(resources: list[dict[str, Any]], resource_id: str, what: str) -> dict[str, Any]:
    for resource in resources:
        if resource["id"] == resource_id:
            return resource
    raise NotFoundException(detail=f"No {what} {resource_id}.")


def _dumped(resource: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = resource.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    return dumped
