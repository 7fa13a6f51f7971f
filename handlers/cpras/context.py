"""What CPRAS handlers share: its settings, the token server (signing with the key ring of
`CPRAS_TOKEN_KEYS_FILE`), the per-client count of failed authentications, and the spec's
check of a webhook event."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from core.config import Settings
from core.oauth import TokenPolicy, TokenServer
from core.oauth.keys import ring_at
from core.unit_of_work import current_unit
from core.validation import to_json_schema
from models.cpras import scopes
from models.cpras.settings import CprasSettings
from models.cpras.webhooks import EventCheck

API_NAME = REALM = "cpras"  # its name, and the realm of its Basic challenge
PREFIX = "/cpras"  # where the API is served; its pages are under it too


def cpras_settings(settings: Settings | None = None) -> CprasSettings:
    from handlers.cpras.api import API  # the API declares these handlers: imported when first served

    return API.config(settings or current_unit().settings)


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
    return TokenServer(lambda: ring_at(cpras.token_keys_file), policy)


@functools.cache
def event_check(spec: Path) -> EventCheck:
    """The spec's `WebhookEvent`, as a check of a delivery: the event schema its `type` selects
    (the discriminator's mapping), and the first thing wrong with it, if anything."""
    schemas = yaml.safe_load(spec.read_text())["components"]["schemas"]
    converted = to_json_schema(schemas)
    mapping: dict[str, str] = schemas["WebhookEvent"]["discriminator"]["mapping"]
    validators = {
        event_type: jsonschema_rs.Draft4Validator({"$ref": reference, "components": {"schemas": converted}})
        for event_type, reference in mapping.items()
    }

    def check(delivery: Any) -> str | None:
        event_type = delivery.get("type") if isinstance(delivery, dict) else None
        validator = validators.get(event_type) if isinstance(event_type, str) else None
        if validator is None:
            return (
                f"type: {str(event_type)[:64]!r} is not a known event type." if event_type else "Not an event: no type."
            )
        for error in validator.iter_errors(delivery):
            where = ".".join(str(step) for step in error.instance_path)
            return f"{where}: {error.message}"[:512] if where else str(error.message)[:512]
        return None

    return check
