"""SCIM 2.0 provisioning of an Enterprise organization's users and groups (RFC 7643, RFC 7644)."""
