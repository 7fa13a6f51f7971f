"""What the SCIM service says of itself (RFC 7644 §4), as identity providers read it first."""

from __future__ import annotations

from scim2_models import ResourceType, Schema, ServiceProviderConfig

from models.mihwar.scim.changes import Provisioning
from models.mihwar.scim.discovery import MAX_RESULTS, resource_types, schemas, service_provider_config

HERE = Provisioning("org_x", "scimtok_x", "/mihwar/api/scim/v2")


def test_the_configuration_says_what_mihwar_does() -> None:
    config = service_provider_config(HERE)
    ServiceProviderConfig.model_validate(config)  # a well-formed RFC 7643 §5 document

    supported = {feature: config[feature]["supported"] for feature in ("patch", "bulk", "filter", "changePassword")}
    supported |= {feature: config[feature]["supported"] for feature in ("sort", "etag")}
    assert supported == {
        "patch": True,
        "bulk": False,
        "filter": True,
        "changePassword": False,
        "sort": False,
        "etag": True,
    }
    assert config["filter"]["maxResults"] == MAX_RESULTS
    assert [scheme["type"] for scheme in config["authenticationSchemes"]] == ["oauthbearertoken"]


def test_users_and_groups_are_the_resource_types_without_the_enterprise_extension() -> None:
    """The extension is accepted and ignored: announcing it would promise its attributes back."""
    found = {kind["id"]: ResourceType.model_validate(kind) for kind in resource_types(HERE)}

    assert set(found) == {"User", "Group"}
    assert (found["User"].endpoint, found["Group"].endpoint) == ("/Users", "/Groups")
    assert not found["User"].schema_extensions


def test_the_schemas_describe_users_and_groups_with_their_rules() -> None:
    found = {schema["id"]: Schema.model_validate(schema) for schema in schemas(HERE)}

    user = found["urn:ietf:params:scim:schemas:core:2.0:User"]
    user_name = next(attribute for attribute in user.attributes or [] if attribute.name == "userName")
    assert user_name.required
    assert str(user_name.uniqueness.value if user_name.uniqueness else "") == "server"
    assert "urn:ietf:params:scim:schemas:core:2.0:Group" in found
    assert all(schema["meta"]["location"].endswith(schema["id"]) for schema in schemas(HERE))


def test_the_user_schema_lists_only_what_mihwar_keeps() -> None:
    """A conformance tool fills in every attribute a schema lists and expects it back."""
    user = next(schema for schema in schemas(HERE) if schema["id"].endswith(":User"))
    listed = {
        attribute["name"]: [sub["name"] for sub in attribute.get("subAttributes", [])]
        for attribute in user["attributes"]
    }

    assert listed == {
        "userName": [],
        "name": ["formatted", "familyName", "givenName"],
        "displayName": [],
        "active": [],
        "emails": ["value", "type", "primary"],
        "groups": ["value", "$ref", "display"],
    }
    assert user["name"] == "User"
